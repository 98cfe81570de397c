"""Local fake servers of the marketplaces' gateways, for the connector tests: each speaks its
platform's protocol (signing, paging, limits, error codes) from recorded answers under ``data/``."""
