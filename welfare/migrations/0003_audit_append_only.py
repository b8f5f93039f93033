"""The audit log is append-only: UPDATE and DELETE raise, whoever asks (the admin site too).

(TRUNCATE is left to the table owner: the app never issues it, and test database flushes need it.)

The retention job (welfare.retention) is the one exception: it sets the transaction-local
setting ``yhdessa.audit_purge`` to 'on' before deleting entries past their retention period.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION welfare_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('yhdessa.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'The audit log is append-only: % is not allowed on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER welfare_auditevent_no_update_delete
    BEFORE UPDATE OR DELETE ON welfare_auditevent
    FOR EACH ROW EXECUTE FUNCTION welfare_auditevent_append_only();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS welfare_auditevent_no_update_delete ON welfare_auditevent;
DROP FUNCTION IF EXISTS welfare_auditevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("welfare", "0002_policy_settings_and_audit")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
