"""Privacy features: retention and purge, data subjects (export, erasure), the audit log
and the record of processing.  See docs/privacy.md."""
