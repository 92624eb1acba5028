# ngx_gemini_pool on Debian 12: Debian's nginx with the module, built by
# the README's own scripts (scripts/bootstrap, scripts/build: no second
# recipe), started by scripts/run.  docs/deploy.md has the details.
#
#   docker build -t ngx-gemini-pool .
#   docker run -d -p 8000:8000 -v gemini-pool:/srv/ngx_gemini_pool/run \
#       -e ADMIN_SECRET_KEY=... -e API_KEY_ENCRYPTION_KEY=... ngx-gemini-pool
#   docker compose up -d                        (compose.yaml)
#
# Chromium is in the image for the re-login of expired accounts; without
# it (--build-arg WITH_CHROMIUM=0, about 300 MB smaller) re-login is off
# and scripts/run says so at start.

FROM debian:12-slim

ARG WITH_CHROMIUM=1

COPY . /srv/ngx_gemini_pool
WORKDIR /srv/ngx_gemini_pool

# the README's steps; then the workers' own user and no apt lists
RUN scripts/bootstrap \
    && scripts/build \
    && if [ "$WITH_CHROMIUM" = 1 ]; then scripts/bootstrap --browser; fi \
    && useradd --system --home-dir /nonexistent --no-create-home \
               --shell /usr/sbin/nologin gemini-pool \
    && rm -rf /var/lib/apt/lists/*

# The environment, from "docker run -e"/"--env-file" or compose.yaml
# (not declared here: no secret in an ENV or ARG of the image), passed on
# by nginx.conf.example's env lines: ADMIN_SECRET_KEY and
# API_KEY_ENCRYPTION_KEY (read by nginx's master at start and reload;
# unset, both are generated into the volume: run/gemini_pool.db.admin-secret
# and run/gemini_pool.db.key), FORCE_HEADLESS=1 / FORCE_HEADED=1 (the
# re-login's Chromium; headless anyway without a DISPLAY).

# the configuration, database, secrets, logs and media cache: keep them
VOLUME /srv/ngx_gemini_pool/run
EXPOSE 8000

# up when nginx answers /health and its database works (an empty or
# cooling pool is "degraded" there, a 503, but the container is healthy)
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD curl -sS --max-time 4 http://127.0.0.1:8000/health \
        | grep -q '"database":"ok"'

# the master runs as root (it binds, reads the secrets, owns the logs);
# its workers, helper and Chromium run as gemini-pool ("user" directive)
CMD ["scripts/run", "--no-build", "--user", "gemini-pool"]
