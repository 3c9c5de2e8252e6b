"use strict";
// Starts Swagger UI on /v3/docs (api/docs.html) from the OpenAPI document named in the
// page's data-schema-url. A static file, so the Content-Security-Policy needs no inline
// script; the validator badge is off (it would call a third-party site).
(function () {
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.apiDocs = window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
    docExpansion: "list",
    filter: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: function (request) {
      // The API's own requests (not the document's) ask for JSON:API, as the SDKs do.
      if (request.url.indexOf("/v3/openapi.json") === -1) {
        request.headers.Accept = "application/vnd.api+json";
      }
      return request;
    },
  });
})();
