"""odoo-gitops: a GitOps release and promotion toolkit for Odoo."""

__version__ = "0.1.0"
