
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * The Gemini Enterprise wire format, as pure functions: the JWT (spec §4),
 * the getoxsrf answer (§3), widget request bodies (§6, §7.1, §8, §9.1),
 * streamed element decoding (§7.4, §7.5) and Google error bodies (§5);
 * and the one-pass JSON scanner of the fast paths (here and openai.c).
 *
 * Pure C over jansson, OpenSSL and text.c: no nginx.  Every char * returned or
 * stored in a result struct is malloc'ed and released by the matching
 * free function (or free() where said).
 */


#ifndef _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_
#define _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "ngx_http_gemini_pool_text.h"


/*
 * getoxsrf answer: optional ")]}'" prefix, whitespace, then a JSON object
 * with "keyId" and "xsrfToken".  Returns NGX_GP_XSRF_OK and sets *key_id
 * / *xsrf_token (malloc'ed), or another NGX_GP_XSRF_* with a static
 * reason in *err: REFUSED for a JSON object without them (spec §3: the
 * cookies are refused), GARBAGE for bytes that are no JSON object (an
 * answer cut short, a proxy's page), NOMEM when memory ran out.
 */
#define NGX_GP_XSRF_OK          0
#define NGX_GP_XSRF_REFUSED    -1
#define NGX_GP_XSRF_GARBAGE    -2
#define NGX_GP_XSRF_NOMEM      -3

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
 * The JSON scanner of the fast paths (the element decoder here, the chat
 * request parser of openai.c): one pass over the bytes, no jansson tree,
 * as strict as jansson.  Each returns NGX_GP_SCAN_OK, NGX_GP_SCAN_NOMEM,
 * or NGX_GP_SCAN_FALLBACK for anything it does not fully understand (the
 * caller then parses with jansson, so results never differ).
 */

#define NGX_GP_SCAN_OK         0
#define NGX_GP_SCAN_FALLBACK   1
#define NGX_GP_SCAN_SKIP       2    /* a member callback: skip the value */
#define NGX_GP_SCAN_NOMEM     -1
#define NGX_GP_SCAN_DEPTH     64

typedef struct {
    const char  *p;         /* the next byte */
    const char  *end;
    char        *tmp;       /* unescape buffer: free() it at the end */
    size_t       tmp_cap;
} ngx_gp_scan_t;

typedef struct {
    const char  *s;         /* decoded bytes (into the text or tmp) */
    size_t       len;
    int          nul;       /* contains U+0000 */
} ngx_gp_scan_str_t;

/* consumes the member's value, or returns NGX_GP_SCAN_SKIP */
typedef int (*ngx_gp_scan_member_pt)(ngx_gp_scan_t *sc, const char *key,
    size_t len, void *data, int depth);

void ngx_gp_scan_ws(ngx_gp_scan_t *sc);

/*
 * A string at sc->p (the opening quote).  out == NULL: validate and skip.
 * Otherwise out gets the decoded bytes: a pointer into the text when
 * there are no escapes, else into sc->tmp (valid until the next call).
 */
int ngx_gp_scan_string(ngx_gp_scan_t *sc, ngx_gp_scan_str_t *out);

/*
 * Walks an object at sc->p: for each member cb(key) consumes the value
 * (NGX_GP_SCAN_OK) or returns NGX_GP_SCAN_SKIP to have it skipped (any
 * value; numbers only in the plain forms jansson never refuses).  Keys
 * are raw bytes: a key with an escape falls back.
 */
int ngx_gp_scan_object(ngx_gp_scan_t *sc, ngx_gp_scan_member_pt cb,
    void *data, int depth);

/*
 * The whole text p (JSON whitespace around) is one object, walked with cb;
 * the unescape buffer is released at the end.
 */
int ngx_gp_scan_json(const char *p, size_t len, ngx_gp_scan_member_pt cb,
    void *data);

/*
 * Walks an array at sc->p: for each element cb consumes it
 * (NGX_GP_SCAN_OK) or returns NGX_GP_SCAN_SKIP to have it skipped.
 */
typedef int (*ngx_gp_scan_element_pt)(ngx_gp_scan_t *sc, void *data,
    int depth);

int ngx_gp_scan_array(ngx_gp_scan_t *sc, ngx_gp_scan_element_pt cb,
    void *data, int depth);


/* 1 and past it when the literal true, false or null is at sc->p */

static inline int
ngx_gp_scan_literal(ngx_gp_scan_t *sc, const char *lit, size_t n)
{
    if ((size_t) (sc->end - sc->p) >= n && memcmp(sc->p, lit, n) == 0) {
        sc->p += n;
        return 1;
    }

    return 0;
}


#define ngx_gp_scan_lit(sc, lit)                                             \
    ngx_gp_scan_literal(sc, lit, sizeof(lit) - 1)

#define ngx_gp_scan_key(k, n, lit)                                           \
    ((n) == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

#define ngx_gp_scan_peek(sc)  ((sc)->p < (sc)->end ? *(sc)->p : '\0')

/* a key seen twice: jansson keeps the last one, let it decide */
#define ngx_gp_scan_once(flag)                                               \
    do {                                                                     \
        if (flag) {                                                          \
            return NGX_GP_SCAN_FALLBACK;                                     \
        }                                                                    \
        flag = 1;                                                            \
    } while (0)


#endif /* _NGX_HTTP_GEMINI_POOL_WIRE_H_INCLUDED_ */
