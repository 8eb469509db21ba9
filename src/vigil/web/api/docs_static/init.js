// Starts Swagger UI on /openapi.json. A file, not an inline script, so the Content-Security-Policy stays strict.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    withCredentials: true,
  });
});
