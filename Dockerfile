# ngx_gemini_pool on Debian 12: nginx with the module on port 8000.
#
#   docker build -t ngx-gemini-pool .
#   docker run -p 8000:8000 -v gemini-pool:/srv/run ngx-gemini-pool

FROM debian:12-slim

COPY . /srv/ngx_gemini_pool
WORKDIR /srv/ngx_gemini_pool

RUN scripts/bootstrap && scripts/build

# the database, logs and media live in run/: keep it on a volume
VOLUME /srv/ngx_gemini_pool/run
EXPOSE 8000

CMD ["scripts/run"]
