"""Where traffic is read from: Elasticsearch aggregations, or a file of events."""
