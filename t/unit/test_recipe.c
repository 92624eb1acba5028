
/*
 * Copyright (C) ngx_gemini_pool developers
 *
 * Unit tests of the sign-in recipe: the shipped scripts/signin.recipe,
 * errors with their lines, how a page is read, csesidx and team_id.
 */


#include "unit.h"
#include "ngx_http_gemini_pool_recipe.h"


static ngx_gp_recipe_t  recipe;


static int
parse(const char *text, char *err, size_t errlen)
{
    return ngx_gp_recipe_parse(&recipe, text, strlen(text), err, errlen);
}


static void
load_shipped(void)
{
    FILE    *f;
    char     buf[65536], err[256];
    size_t   n;

    f = fopen(RECIPE, "r");
    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);

    assert_int_equal(ngx_gp_recipe_parse(&recipe, buf, n, err, sizeof(err)),
                     0);
}


static void
test_shipped(void **state)
{
    load_shipped();

    assert_string_equal(recipe.values[NGX_GP_R_LOGIN_PAGE][0],
                        "{login_url}/login?continueUrl={auth_url}/");
    assert_string_equal(recipe.values[NGX_GP_R_EMAIL_INPUT][0],
                        "#email-input");
    assert_int_equal(recipe.n[NGX_GP_R_EMAIL_INPUT], 4);
    assert_string_equal(recipe.values[NGX_GP_R_CONTINUE][1], "text:继续");
    assert_int_equal(recipe.code_rounds, 3);
    assert_int_equal(recipe.timeout[NGX_GP_RT_LOGIN], 600000);
    assert_int_equal(recipe.timeout[NGX_GP_RT_POLL], 500);
    assert_int_equal(recipe.timeout[NGX_GP_RT_TOAST], 90000);
}


static void
test_errors(void **state)
{
    char  err[256];

    assert_int_equal(parse("# c\nlogin_page x\nbogus 1\n", err,
                           sizeof(err)), 3);
    assert_string_equal(err, "unknown key \"bogus\"");

    assert_int_equal(parse("\n\nemail_input\n", err, sizeof(err)), 3);
    assert_string_equal(err, "\"email_input\" needs a value");

    assert_int_equal(parse("login_page a\nlogin_page b\n", err,
                           sizeof(err)), 2);
    assert_string_equal(err, "\"login_page\" is given twice");

    assert_int_equal(parse("timeout_mail 2h\n", err, sizeof(err)), 1);
    assert_non_null(strstr(err, "invalid duration \"2h\""));

    assert_int_equal(parse("code_rounds 0\n", err, sizeof(err)), 1);
    assert_int_equal(parse("continue text:\n", err, sizeof(err)), 1);

    /* a whole-file error: a key every login needs */
    assert_int_equal(parse("login_page x\n", err, sizeof(err)), -1);
    assert_string_equal(err, "the key \"home_page\" is missing");
}


static void
test_durations(void **state)
{
    char  err[256];

    assert_int_equal(parse("login_page {login_url}/\nhome_page h\n"
                           "email_input e\ncontinue c\ncode_input i\n"
                           "verify v\nlimit_text l\ncode_error_text w\n"
                           "timeout_mail 500ms\ntimeout_page 2m\n"
                           "poll 7\r\n", err, sizeof(err)), 0);
    assert_int_equal(recipe.timeout[NGX_GP_RT_MAIL], 500);
    assert_int_equal(recipe.timeout[NGX_GP_RT_PAGE], 120000);
    assert_int_equal(recipe.timeout[NGX_GP_RT_POLL], 7000);
    /* defaults for what is not given */
    assert_int_equal(recipe.timeout[NGX_GP_RT_OUTCOME], 30000);
}


static void
test_pages(void **state)
{
    const char  *home = "https://business.gemini.google";
    const char  *code = "https://accountverification.business.gemini.google"
                        "/v1/verify-oob-code";

    load_shipped();

    assert_int_equal(ngx_gp_recipe_page(&recipe, home,
                     "https://business.gemini.google/home/cid/t1?csesidx=42",
                     ""), NGX_GP_PAGE_SUCCESS);

    /* the home page's host as a prefix of another host is not home */
    assert_int_not_equal(ngx_gp_recipe_page(&recipe, home,
                         "https://business.gemini.google.evil/x", ""),
                         NGX_GP_PAGE_SUCCESS);

    /* a login URL on the product's host is not signed in */
    assert_int_equal(ngx_gp_recipe_page(&recipe, home,
                     "https://business.gemini.google/login?x=1", ""),
                     NGX_GP_PAGE_UNKNOWN);

    /* every code page carries the resend button's label: not a limit */
    assert_int_equal(ngx_gp_recipe_page(&recipe, home, code,
                     "输入验证码\n重新发送验证码\n验证"), NGX_GP_PAGE_CODE);

    assert_int_equal(ngx_gp_recipe_page(&recipe, home, code,
                     "验证码有误，请重试\n重新发送验证码"),
                     NGX_GP_PAGE_CODE_ERROR);

    assert_int_equal(ngx_gp_recipe_page(&recipe, home, code,
                     "验证码输入次数已超出上限，请重新发送验证码"),
                     NGX_GP_PAGE_LIMIT);

    assert_int_equal(ngx_gp_recipe_page(&recipe, home, code,
                     "You have exceeded the maximum number of attempts"),
                     NGX_GP_PAGE_LIMIT);

    assert_int_equal(ngx_gp_recipe_page(&recipe, home, code,
                     "That CODE IS INCORRECT."), NGX_GP_PAGE_CODE_ERROR);

    assert_int_equal(ngx_gp_recipe_page(&recipe, home,
                     "https://auth.business.gemini.google/login/email",
                     "This server cannot process your request"),
                     NGX_GP_PAGE_ERROR);
}


static void
test_harvest(void **state)
{
    char  out[80];

    assert_int_equal(ngx_gp_recipe_csesidx("https://b/home/cid/abc-1"
                                           "?csesidx=1404564754&x=1",
                                           out, sizeof(out)), 0);
    assert_string_equal(out, "1404564754");
    assert_int_equal(ngx_gp_recipe_csesidx("\"csesidx\":77 csesidx:88",
                                           out, sizeof(out)), 0);
    assert_string_equal(out, "88");
    assert_int_equal(ngx_gp_recipe_csesidx("csesidx=&q", out, sizeof(out)),
                     -1);
    assert_int_equal(ngx_gp_recipe_csesidx("csesidx=123456", out, 4), -1);

    assert_int_equal(ngx_gp_recipe_team_id("https://b/home/cid/36cc1840-80"
                                           "78?csesidx=1", out, sizeof(out)),
                     0);
    assert_string_equal(out, "36cc1840-8078");
    assert_int_equal(ngx_gp_recipe_team_id("https://b/cid/t9/r", out,
                                           sizeof(out)), 0);
    assert_string_equal(out, "t9");
    assert_int_equal(ngx_gp_recipe_team_id("https://b/home?csesidx=1", out,
                                           sizeof(out)), -1);
}


static void
test_url_json(void **state)
{
    char  out[256];

    assert_int_equal(ngx_gp_recipe_url("{login_url}/login?continueUrl="
                                       "{auth_url}/", "https://a.g/",
                                       "https://b.g", out, sizeof(out)), 0);
    assert_string_equal(out, "https://a.g/login?continueUrl=https://b.g/");
    assert_int_equal(ngx_gp_recipe_url("{auth_url}/x", "l", "0123456789",
                                       out, 10), -1);

    load_shipped();
    recipe.n[NGX_GP_R_CHALLENGE] = 2;
    strcpy(recipe.values[NGX_GP_R_CHALLENGE][0], "a[title=\"x\\y\"]");
    strcpy(recipe.values[NGX_GP_R_CHALLENGE][1], "</script>");
    assert_int_equal(ngx_gp_recipe_json(&recipe, NGX_GP_R_CHALLENGE, out,
                                        sizeof(out)), 0);
    assert_string_equal(out,
                        "[\"a[title=\\\"x\\\\y\\\"]\",\"\\u003c/script>\"]");
    assert_int_equal(ngx_gp_recipe_json(&recipe, NGX_GP_R_CHALLENGE, out,
                                        8), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_shipped),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_pages),
        cmocka_unit_test(test_harvest),
        cmocka_unit_test(test_url_json),
    };

    UNIT_RUN("recipe", tests);
}
