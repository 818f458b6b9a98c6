"""The acceptance scorecard: the playbook's "Metrics & Acceptance" criteria (`definition`,
`slo_definitions/acceptance.yaml`) judged from live figures (`criteria`), with their trend and the changes
between two instants (`view`)."""
