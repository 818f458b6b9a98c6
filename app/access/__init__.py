"""Access control and its audit: the access file's roles and grants (`policy`), the access events written
to OpenSearch through a local spool (`events`, `spool`, `log`) and the access-log page's data (`view`)."""
