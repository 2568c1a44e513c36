// @ts-check

/** The provisioned data source (grafana/provisioning/datasources/otel-pg-analytics.yaml). */
export const DATASOURCE = Object.freeze({ type: 'grafana-postgresql-datasource', uid: 'otel-pg-analytics' });
