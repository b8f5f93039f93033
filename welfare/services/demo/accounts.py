"""Demo sign-ins: one user per role and municipality, a county counsellor and a platform admin.

All share ``settings.DEMO_PASSWORD`` and one TOTP secret (``DEMO_TOTP_SECRET``), so a person can
add it once to an authenticator app and sign in as any role through the real two-step flow.
"""

from __future__ import annotations

import base64
import binascii
import os
import random
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.hashers import make_password

from welfare.accounts.models import User
from welfare.models import Role
from welfare.services.demo.catalogue import MunicipalitySpec
from welfare.services.demo.names import NameMaker

DEFAULT_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
DEMO_DOMAIN = "demo"
PLATFORM_ADMIN_EMAIL = "admin@yhdessa.demo"
# A counsellor employed by the wellbeing services county who works in two municipalities
# (domain.md A2): one identity, roles in both schemas. Serves each city's bilingual campus.
COUNTY_COUNSELLOR_EMAIL = "kuraattori@lansi-uusimaa.demo"


def demo_totp_secret() -> str:
    """The shared base32 TOTP secret of all demo accounts (env DEMO_TOTP_SECRET or a fixed default)."""
    secret = (
        os.environ.get("DEMO_TOTP_SECRET") or getattr(settings, "DEMO_TOTP_SECRET", "") or DEFAULT_TOTP_SECRET
    )
    secret = secret.strip().replace(" ", "").upper()
    try:
        base64.b32decode(secret, casefold=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"DEMO_TOTP_SECRET is not valid base32: {secret!r}") from exc
    return secret


def demo_email(role: str, slug: str) -> str:
    """The sign-in of a demo role in a municipality, e.g. kuraattori@espoo.demo."""
    return f"{role}@{slug}.{DEMO_DOMAIN}"


@dataclass
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    superuser: bool = False


def staff_accounts(specs: list[MunicipalitySpec], names: NameMaker) -> list[DemoAccount]:
    accounts = []
    for spec in specs:
        rng = random.Random(spec.seed + 1)
        for role in Role:
            first, last, _female = names.person("fi", rng)
            accounts.append(DemoAccount(demo_email(role.value, spec.slug), first, last))
    rng = random.Random(7)
    first, last, _female = names.person("fi", rng, female=True)
    accounts.append(DemoAccount(COUNTY_COUNSELLOR_EMAIL, first, last))
    accounts.append(DemoAccount(PLATFORM_ADMIN_EMAIL, "Alustan", "Ylläpitäjä", superuser=True))
    return accounts


def ensure_demo_users(accounts: list[DemoAccount], password: str, totp_secret: str) -> tuple[dict[str, User], int]:
    """Users with a verified primary email, the demo password, a TOTP authenticator and recovery codes.

    Users that already exist keep their password and secret; missing pieces are added.
    Returns the users by email and how many were created.
    """
    emails = [account.email for account in accounts]
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    missing = [account for account in accounts if account.email not in users]
    if missing:
        # One hash for all: hashing per user would take ~0.3 s each with the production hasher.
        hashed = make_password(password)
        created = User.objects.bulk_create(
            User(
                email=account.email,
                first_name=account.first_name,
                last_name=account.last_name,
                password=hashed,
                is_staff=account.superuser,
                is_superuser=account.superuser,
            )
            for account in missing
        )
        users.update({user.email: user for user in created})
    user_ids = [user.pk for user in users.values()]
    have_address = set(EmailAddress.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        EmailAddress(user=user, email=user.email, verified=True, primary=True)
        for user in users.values()
        if user.pk not in have_address
    )
    have = set(Authenticator.objects.filter(user_id__in=user_ids).values_list("user_id", "type"))
    for user in users.values():
        if (user.pk, Authenticator.Type.TOTP) not in have:
            TOTP.activate(user, totp_secret)
        if (user.pk, Authenticator.Type.RECOVERY_CODES) not in have:
            RecoveryCodes.activate(user)
    return users, len(missing)
