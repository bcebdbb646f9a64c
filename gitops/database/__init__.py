"""Non-production databases: masking, neutralisation, masking proof, backups and restore rehearsal."""
