FROM python:3.11-slim-bookworm

# WeasyPrint needs Pango; curl is for the healthchecks.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b curl \
    && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY . .
# Editable, so the code (with templates/ and static/ beside it) runs from /app.
RUN pip install --no-cache-dir -e .
RUN DEBUG=False SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

RUN useradd --create-home didportal && mkdir -p /app/var && chown -R didportal /app/var
USER didportal
EXPOSE 8000
CMD ["gunicorn", "didportal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
