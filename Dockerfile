# ccplane image: the control plane only. Asterisk runs elsewhere (your own
# servers, or the asterisk service of docker-compose.yml); point CCPLANE_ASTERISK_*
# at it and share its config directory (ccplane writes <config_dir>/ccplane/*.conf).
FROM python:3.11-slim-bookworm

RUN useradd --system --create-home --home-dir /srv/ccplane ccplane
WORKDIR /srv/ccplane/app
COPY pyproject.toml README.md ./
COPY ccplane ./ccplane
COPY dialplan_templates ./dialplan_templates
COPY migrations ./migrations
COPY config ./config
COPY scripts/constraints.txt ./scripts/constraints.txt
# Editable install: templates, migrations and config are read next to the package;
# dependencies within the versions the suite last passed with.
RUN pip install --no-cache-dir -c scripts/constraints.txt -e .

USER ccplane
ENV CCPLANE_SERVER_HOST=0.0.0.0 \
    CCPLANE_AUTH_SECRET_FILE=/srv/ccplane/data/ccplane.secret
VOLUME ["/srv/ccplane/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/api/v1/health', timeout=2)" || exit 1
# Migrate, then serve (serve refuses an outdated schema).
CMD ["sh", "-c", "ccplane db upgrade && exec ccplane serve"]
