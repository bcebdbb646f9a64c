"""Append-only, hash-chained audit log kept in the config repository (audit/<env>.jsonl)."""

from gitops.audit.log import AuditEntry, ChainReport, append_entry, audit_path, read_entries, verify_chain

__all__ = ["AuditEntry", "ChainReport", "append_entry", "audit_path", "read_entries", "verify_chain"]
