// Generated from manifest.json by scripts/generate-hubspot-project.ts — do not edit.
// Regenerate with `npm run generate:hubspot -- --public-url <your connector URL>`.

/** The connector's PUBLIC_URL (also listed in app-hsmeta.json permittedUrls.fetch). */
export const CONNECTOR_URL = "https://connector.example.com";

/** GET endpoint of the whatsapp-card card. */
export const WHATSAPP_CARD_URL = "https://connector.example.com/cards/hubspot/contact";
