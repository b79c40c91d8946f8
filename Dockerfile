FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VAR_DIR=/var/lib/clinic
WORKDIR /app
COPY pyproject.toml README.md ./
COPY clinic ./clinic
COPY bot ./bot
COPY desk ./desk
COPY manage.py wsgi.py worker.py ./
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/clinic clinic \
    && mkdir -p /var/lib/clinic && chown clinic /var/lib/clinic
USER clinic
EXPOSE 5000
CMD ["sh", "-c", "clinic migrate && exec gunicorn --bind 0.0.0.0:5000 --workers ${WEB_WORKERS:-2} --threads ${WEB_THREADS:-8} --worker-class gthread --access-logfile - 'wsgi:create_app()'"]
