# Container image for the functions that render reports (api_reports, worker_reports): WeasyPrint lays out text
# with pango (and harfbuzz, fontconfig, cairo's image loaders), native libraries a zip function cannot carry, so
# these functions ship as images. Built by `sam build` from the repository root (DockerContext: .) with
# --build-arg FUNCTION=<functions/ dir>. Not built on the development machines (no Docker engine there): verify
# with `sam build` before deploying.
FROM public.ecr.aws/lambda/python:3.12

# The AL2023 Lambda base images ship microdnf (no full dnf). DejaVu is the report's font (it is the
# first family in the report's CSS); fontconfig needs a writable cache directory at run time (/tmp on Lambda).
RUN microdnf install -y pango dejavu-sans-fonts fontconfig \
    && microdnf clean all \
    && rm -rf /var/cache/dnf /var/cache/yum
ENV FONTCONFIG_PATH=/etc/fonts XDG_CACHE_HOME=/tmp

ARG FUNCTION
# Same requirements as the zip layers, read from pyproject.toml: core + the reports extra (WeasyPrint, Jinja2).
COPY pyproject.toml ${LAMBDA_TASK_ROOT}/build-src/pyproject.toml
COPY shared ${LAMBDA_TASK_ROOT}/build-src/shared
RUN pip install --no-cache-dir "${LAMBDA_TASK_ROOT}/build-src[reports]" --target "${LAMBDA_TASK_ROOT}" \
    && rm -rf "${LAMBDA_TASK_ROOT}/build-src" \
    && python -m compileall -q "${LAMBDA_TASK_ROOT}"

COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/

CMD ["app.app"]
