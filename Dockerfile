FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY services ./services
COPY contracts ./contracts
RUN pip install --no-cache-dir .
EXPOSE 8000
CMD ["bria-fleet", "--help"]
