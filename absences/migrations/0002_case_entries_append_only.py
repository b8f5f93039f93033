"""Case entries are append-only: a correction is a new entry (domain.md A3, anchors.md A5 "court safe")."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION absences_caseentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('yhdessa.retention_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'Case entries are append-only: % is not allowed on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER absences_caseentry_no_update_delete
    BEFORE UPDATE OR DELETE ON absences_caseentry
    FOR EACH ROW EXECUTE FUNCTION absences_caseentry_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS absences_caseentry_no_update_delete ON absences_caseentry;
DROP FUNCTION IF EXISTS absences_caseentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("absences", "0001_absence_follow_up")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
