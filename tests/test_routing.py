"""Routing by host: known municipality, unknown host, bare host."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_municipality_host_serves_its_front_page(espoo_client):
    response = espoo_client.get("/", headers={"accept-language": "fi"})
    assert response.status_code == 200
    assert "Espoo" in response.content.decode()


def test_unknown_municipality_host_gets_a_404_page(municipalities):
    response = Client(headers={"host": "atlantis.localhost"}).get("/")
    assert response.status_code == 404
    assert b"<h1>" in response.content


def test_bare_host_lists_municipalities_but_nothing_private(municipalities):
    response = Client(headers={"host": "localhost"}).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Espoo" in body and "Vantaa" in body
    assert "/api/" not in body


def test_platform_admin_signs_in_through_allauth_not_its_own_form(municipalities):
    response = Client(headers={"host": "localhost"}).get("/platform-admin/", follow=True)
    final_path = response.redirect_chain[-1][0]
    assert final_path.startswith("/accounts/login/"), response.redirect_chain
    assert response.status_code == 200
