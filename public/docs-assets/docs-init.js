// Starts Swagger UI on /docs. Kept in a file (not inline) so /docs can run without 'unsafe-inline'.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  tryItOutEnabled: true,
  validatorUrl: null,
});
