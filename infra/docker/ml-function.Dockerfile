# Container image for the functions that model (numpy, scipy, scikit-learn, pandas) and write narratives
# (openai, anthropic SDKs): together they exceed a zip function's 250 MB, an image may be 10 GB.
# Built by `sam build` from the repository root (DockerContext: .) with --build-arg FUNCTION=<functions/ dir>.
# Not built on the development machines (no Docker engine there): verify with `sam build` before deploying.
FROM public.ecr.aws/lambda/python:3.12

ARG FUNCTION
# Same requirements as the zip layers, read from pyproject.toml: core + ml + llm extras.
COPY pyproject.toml ${LAMBDA_TASK_ROOT}/build-src/pyproject.toml
COPY shared ${LAMBDA_TASK_ROOT}/build-src/shared
RUN pip install --no-cache-dir "${LAMBDA_TASK_ROOT}/build-src[ml,llm]" --target "${LAMBDA_TASK_ROOT}" \
    && rm -rf "${LAMBDA_TASK_ROOT}/build-src" \
    && python -m compileall -q "${LAMBDA_TASK_ROOT}"

COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/

CMD ["app.app"]
