"""Pure data-quality logic on Ibis expressions: rules, the fused scan plan, anomalies."""
