"""/api/v1/: one router; each app registers its viewsets in its api.py."""

from rest_framework.routers import DefaultRouter

from absences.api import register as register_absences
from annualclock.api import register as register_annualclock
from groupsessions.api import register as register_groupsessions
from parentevenings.api import register as register_parentevenings
from welfare.api import register as register_welfare

router = DefaultRouter()
register_welfare(router)
register_absences(router)
register_annualclock(router)
register_groupsessions(router)
register_parentevenings(router)

urlpatterns = router.urls
