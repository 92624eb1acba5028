
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini Enterprise wire format, as pure functions: the JWT (spec §4),
 * the getoxsrf answer (§3), widget request bodies (§6, §7.1, §8, §9.1),
 * streamed element decoding (§7.4, §7.5) and Google error bodies (§5).
 *
 * Pure C over jansson and OpenSSL: no nginx.  Every char * returned or
 * stored in a result struct is malloc'ed and released by the matching
 * free function (or free() where said).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <time.h>


/* base64url without padding; returns malloc'ed NUL-terminated text */
char *ngx_gp_base64url_encode(const unsigned char *p, size_t len,
    size_t *out_len);

/*
 * Decodes base64url or standard base64, with or without '=' padding.
 * Returns malloc'ed bytes (NUL-terminated for convenience) or NULL on
 * invalid input.
 */
unsigned char *ngx_gp_base64_decode_any(const char *p, size_t len,
    size_t *out_len);


/*
 * getoxsrf answer: optional ")]}'" prefix, whitespace, then a JSON object
 * with "keyId" and "xsrfToken".  Returns 0 and sets *key_id / *xsrf_token
 * (malloc'ed), or -1 with a static reason in *err.
 */
int ngx_gp_xsrf_parse(const char *body, size_t len, char **key_id,
    char **xsrf_token, const char **err);

/*
 * HS256 JWT of spec §4: header {"alg":"HS256","typ":"JWT","kid":key_id},
 * payload iss/aud/sub/iat/exp/nbf in that order, exp = now + 300.
 * xsrf_token is the getoxsrf value (base64url or base64, padded or not).
 * Returns the malloc'ed token or NULL (bad token text, allocation).
 */
#define NGX_GP_JWT_LIFETIME  300

char *ngx_gp_jwt_build(const char *key_id, const char *xsrf_token,
    const char *csesidx, time_t now);


/* widget request bodies; each returns malloc'ed JSON text and its length */

char *ngx_gp_body_create_session(const char *team_id, const char *name,
    size_t *len);

#define NGX_GP_TOOLS_DEFAULT  0   /* web grounding + registry + image/video */
#define NGX_GP_TOOLS_IMAGE    1   /* {"imageGenerationSpec":{}} only */
#define NGX_GP_TOOLS_VIDEO    2   /* {"videoGenerationSpec":{}} only */

typedef struct {
    const char    *team_id;
    const char    *session;        /* resource name */
    const char    *text;           /* query.parts[0].text */
    size_t         text_len;
    const char   **file_ids;       /* may be NULL when nfile_ids == 0 */
    size_t         nfile_ids;
    const char    *model_id;       /* NULL or "": no assistGenerationConfig */
    int            tools;          /* NGX_GP_TOOLS_* */
    const char    *language_code;  /* NULL: "zh-CN" */
    const char    *time_zone;      /* NULL: "Etc/GMT-8" */
} ngx_gp_assist_t;

char *ngx_gp_body_stream_assist(const ngx_gp_assist_t *a, size_t *len);

/* widgetAddContextFile; data is raw bytes, encoded here as base64 */
char *ngx_gp_body_add_context_file(const char *team_id, const char *session,
    const char *file_name, const char *mime_type, const unsigned char *data,
    size_t data_len, size_t *len);

char *ngx_gp_body_list_files(const char *team_id, const char *session,
    size_t *len);


/* widgetCreateSession answer -> malloc'ed session.name, or NULL */
char *ngx_gp_session_parse(const char *body, size_t len);

/* widgetAddContextFile answer -> malloc'ed fileId, or NULL */
char *ngx_gp_file_id_parse(const char *body, size_t len);


/*
 * Google error body {"error":{"code","message","status","details":[...]}}
 * or getoxsrf's {"message","status"} (with or without ")]}'"); also
 * {"error":"text"}.  Fills what it finds; returns 0 when the body had a
 * recognisable error (message defaults to the status, else "unknown
 * error"), -1 otherwise (then *message holds the first 200 bytes of the
 * body, made valid UTF-8: a character cut at byte 200 is dropped, bad
 * bytes and NULs become U+FFFD).  reason is the first details[].reason.
 * message is NULL only when memory ran out.  Release with
 * ngx_gp_gerror_free().
 */
typedef struct {
    int            code;       /* 0 when absent */
    char          *status;     /* "RESOURCE_EXHAUSTED", ... or NULL */
    char          *message;    /* never NULL after the call */
    char          *reason;     /* details[0].reason or NULL */
} ngx_gp_gerror_t;

int ngx_gp_gerror_parse(const char *body, size_t len, ngx_gp_gerror_t *e);
void ngx_gp_gerror_free(ngx_gp_gerror_t *e);


/* one decoded streamed element (spec §7.4, §7.5) */

#define NGX_GP_PART_TEXT      0    /* answer text fragment */
#define NGX_GP_PART_THOUGHT   1    /* reasoning text fragment */
#define NGX_GP_PART_FILE      2    /* content.file: file_id, mime, name */
#define NGX_GP_PART_INLINE    3    /* inline media: data (base64), mime */

typedef struct {
    int            kind;
    char          *text;       /* TEXT/THOUGHT: the text; INLINE: base64 */
    size_t         len;
    char          *mime;       /* FILE/INLINE; FILE defaults to image/png */
    char          *file_id;    /* FILE */
    char          *name;       /* FILE/INLINE when given */
} ngx_gp_part_t;

#define NGX_GP_STATE_NONE         0
#define NGX_GP_STATE_IN_PROGRESS  1
#define NGX_GP_STATE_SUCCEEDED    2
#define NGX_GP_STATE_SKIPPED      3
#define NGX_GP_STATE_FAILED       4
#define NGX_GP_STATE_OTHER        5

typedef struct {
    int              is_error;     /* the element was {"error":{...}} */
    ngx_gp_gerror_t  error;        /* when is_error */

    int              state;        /* NGX_GP_STATE_* of answer.state */
    char            *session;      /* non-empty sessionInfo.session */
    char            *skipped;      /* assistSkippedReasons joined by "," */
    char            *policy;       /* modelArmorViolation text, if any */

    ngx_gp_part_t   *parts;        /* in document order */
    size_t           nparts;
} ngx_gp_element_t;

/*
 * Decodes one element; media from every place listed in spec §7.5 become
 * parts.  Part order: for each reply in order, its text or thought
 * (empty texts skipped), content.file, content.inlineData,
 * content.imageBytes, content.attachments, groundedContent.inlineData,
 * groundedContent.attachments, reply.attachments, reply.generatedImages;
 * then answer.generatedImages, then streamAssistResponse.generatedImages.
 * INLINE parts default to image/png.  policy joins the violations of all
 * policyResults with "," (strings as they are, other values as compact
 * JSON).  Returns 0, or -1 when p is not a JSON object (then *err says
 * why).  Release with ngx_gp_element_free() in both cases.
 */
int ngx_gp_element_decode(const char *p, size_t len, ngx_gp_element_t *e,
    const char **err);
void ngx_gp_element_free(ngx_gp_element_t *e);


/*
 * Upstream text artefacts of image turns (spec §7.5): removes lines that
 * contain "Image generated by Nano Banana Pro" and lines that start with
 * "<ctrl46>Image size:" (each with its newline); a "<ctrl46>Image size:"
 * glued to the end of a text line (as in "...end.<ctrl46>Image size:
 * (64, 48)") is cut from the marker to the end of that line.  A "line"
 * starts at p or after '\n', so apply it to whole texts or fragments.
 * Works in place; returns the new length.
 */
size_t ngx_gp_strip_artefacts(char *p, size_t len);


#endif /* _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_ */
