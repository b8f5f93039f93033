"""factory_boy factories of parent evenings (use inside a municipality's schema)."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from parentevenings.models import (
    Agency,
    AgencyKind,
    BookingStatus,
    EveningLanguage,
    EveningStatus,
    Feedback,
    InterpreterBooking,
    ParentEvening,
    Registration,
    RegistrationStatus,
)
from tests.factories import SchoolFactory


class ParentEveningFactory(DjangoModelFactory):
    class Meta:
        model = ParentEvening
        skip_postgeneration_save = True

    title = "Alueellinen vanhempainilta"
    area = "Espoonlahti"
    date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))
    start_time = datetime.time(17, 0)
    end_time = datetime.time(19, 15)
    venue_name = "Kaitaan koulu"
    venue_address = "Iivisniementie 7, Espoo"
    accessibility_info = "Esteetön sisäänkäynti pääovesta."
    programme = "17.00 palvelutori, 18.15 kieliryhmät"
    capacity = 40
    waiting_list_limit = 20
    status = EveningStatus.PUBLISHED

    @factory.post_generation
    def schools(self, create, extracted, **kwargs):
        if create:
            self.schools.set(extracted if extracted is not None else [SchoolFactory()])


class EveningLanguageFactory(DjangoModelFactory):
    class Meta:
        model = EveningLanguage
        django_get_or_create = ("evening", "code")

    evening = factory.SubFactory(ParentEveningFactory)
    code = "ar"
    title = "أمسية أولياء الأمور"
    invitation_text = ("ندعوكم إلى أمسية أولياء الأمور يوم {date} الساعة {time} في {place}. "
                       "سجلوا هنا: {registration_link}")
    message_text = "شكرًا لتسجيلكم. الرمز: {code}. للإلغاء: {cancel_link}"


class InterpreterBookingFactory(DjangoModelFactory):
    class Meta:
        model = InterpreterBooking

    language = factory.SubFactory(EveningLanguageFactory)
    name = "Tulkkauspalvelu Oy"
    contact = "tulkkaus@example.fi"
    status = BookingStatus.CONFIRMED


class RegistrationFactory(DjangoModelFactory):
    class Meta:
        model = Registration

    language = factory.SubFactory(EveningLanguageFactory)
    evening = factory.SelfAttribute("language.evening")
    adults = 1
    children = 0
    status = RegistrationStatus.CONFIRMED


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Perheiden sosiaalipalvelut {n}")
    kind = AgencyKind.FAMILY_SOCIAL_SERVICES


class FeedbackFactory(DjangoModelFactory):
    class Meta:
        model = Feedback

    evening = factory.SubFactory(ParentEveningFactory)
    language = "ar"
    score = 9
