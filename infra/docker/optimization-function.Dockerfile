# Container image for the optimization functions (issue 6, optimize slice): they model (numpy, scipy,
# scikit-learn via the response models) and write to ad platforms with decrypted credentials (cryptography for the
# KMS envelope). core + ml + crypto exceed a zip function's 250 MB; an image may be 10 GB.
# Built by `sam build` from the repository root (DockerContext: .) with --build-arg FUNCTION=<functions/ dir>.
# Not built on the development machines (no Docker engine there): verify with `sam build` before deploying.
FROM public.ecr.aws/lambda/python:3.12

ARG FUNCTION
COPY pyproject.toml ${LAMBDA_TASK_ROOT}/build-src/pyproject.toml
COPY shared ${LAMBDA_TASK_ROOT}/build-src/shared
RUN pip install --no-cache-dir "${LAMBDA_TASK_ROOT}/build-src[ml,crypto]" --target "${LAMBDA_TASK_ROOT}" \
    && rm -rf "${LAMBDA_TASK_ROOT}/build-src" \
    && python -m compileall -q "${LAMBDA_TASK_ROOT}"

COPY functions/${FUNCTION}/ ${LAMBDA_TASK_ROOT}/

CMD ["app.app"]
