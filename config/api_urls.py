"""/api/v1/: one router; each app registers its viewsets in its api.py."""

from rest_framework.routers import DefaultRouter

from absences.api import register as register_absences
from welfare.api import register as register_welfare

router = DefaultRouter()
register_welfare(router)
register_absences(router)

urlpatterns = router.urls
