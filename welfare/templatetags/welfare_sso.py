"""The sign-in page's single sign-on buttons: only the identity providers of this municipality."""

from django import template
from django.db import connection
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def municipality_sso_providers(context) -> list[dict]:
    """[{"name", "url"}] for the SocialApps tied to the municipality this host serves."""
    from allauth.socialaccount.models import SocialApp

    from welfare.adapters import municipality_of_app

    request = context.get("request")
    tenant = getattr(request, "tenant", None)
    if tenant is None or connection.schema_name == "public":
        return []
    providers = []
    for app in SocialApp.objects.filter(provider__in=["saml", "openid_connect"]).order_by("name"):
        if municipality_of_app(app) != tenant.slug:
            continue
        if app.provider == "saml":
            url = reverse("saml_login", kwargs={"organization_slug": app.client_id})
        else:
            url = reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
        providers.append({"name": app.name, "url": url})
    return providers
