"""Single sign-on is configured per municipality: each host offers only its own identity providers."""

import pytest
from allauth.socialaccount.models import SocialApp

pytestmark = pytest.mark.django_db


@pytest.fixture
def espoo_entra(municipalities):
    return SocialApp.objects.create(
        provider="openid_connect", provider_id="espoo-entra", name="Espoon kaupunki (Entra ID)",
        client_id="client-id", secret="secret",
        settings={"server_url": "https://login.microsoftonline.com/tenant/v2.0", "municipality": "espoo"},
    )


def test_login_page_offers_the_municipalitys_own_identity_provider(espoo_entra, espoo_client, vantaa_client):
    espoo_page = espoo_client.get("/accounts/login/", headers={"accept-language": "en"}).content.decode()
    assert "Sign in with Espoon kaupunki (Entra ID)" in espoo_page
    assert 'href="/accounts/oidc/espoo-entra/login/"' in espoo_page
    vantaa_page = vantaa_client.get("/accounts/login/").content.decode()
    assert "espoo-entra" not in vantaa_page


def test_the_sso_button_leads_to_a_confirmation_form_not_straight_out(espoo_entra, espoo_client):
    response = espoo_client.get("/accounts/oidc/espoo-entra/login/")
    assert response.status_code == 200
    assert "<form" in response.content.decode()


def test_no_sso_configured_means_password_only(municipalities, espoo_client):
    assert "sso-providers" not in espoo_client.get("/accounts/login/").content.decode()
