"""Synthetic people for the demo data, named as a Finnish student register would spell them.

Finnish, Swedish, Estonian and English names come from Faker. For languages whose Faker locale
writes in another script (Arabic, Persian, Russian, Ukrainian) or does not exist (Somali, Kurdish),
a short curated list of common names in the Latin transliteration used in Finnish registers
(Russian in Finnish transliteration, Ukrainian as in passports, Vietnamese without tone marks).
Every choice goes through a seeded ``random.Random``, so the same seed gives the same people.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

from faker import Faker


@dataclass(frozen=True)
class NamePool:
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]
    feminine_last: bool = False  # Russian surnames agree in gender: Ivanov / Ivanova
    last_female: tuple[str, ...] = ()  # where the locale has female surnames of its own (Estonian Ivanova)


def _split(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


CURATED: dict[str, NamePool] = {
    "ar": NamePool(
        _split("Mohammed, Ahmed, Ali, Omar, Yousef, Hassan, Hussein, Mustafa, Ibrahim, Khaled, Karim, Adam, "
               "Zaid, Amir, Yasin, Hamza, Abdullah, Sami, Tariq, Rami"),
        _split("Fatima, Maryam, Aisha, Noor, Layla, Sara, Zainab, Huda, Amira, Rania, Yasmin, Salma, Rahaf, "
               "Dana, Lina, Hiba, Malak, Jana, Rawan, Shahd"),
        _split("Al-Hassan, Hussein, Abdullah, Mahmoud, Ali, Ahmed, Saleh, Jaber, Al-Obaidi, Kareem, Haddad, "
               "Nasser, Khalil, Al-Jabouri, Hamdan, Mansour, Salem, Yassin, Darwish, Aziz"),
    ),
    "so": NamePool(
        _split("Abdirahman, Abdullahi, Mohamed, Ahmed, Hassan, Abdi, Yusuf, Ismail, Mahad, Liban, Hamza, "
               "Bashir, Guled, Omar, Abdikarim, Mustafe, Faisal, Sakariye, Ayanle, Hussein"),
        _split("Hodan, Fartun, Hibaq, Ayaan, Sagal, Nimco, Ifrah, Hamdi, Sahra, Fadumo, Amina, Hafsa, Khadra, "
               "Ubah, Ladan, Idil, Nasra, Deeqa, Ilhan, Muna"),
        _split("Mohamed, Ahmed, Ali, Hassan, Abdi, Warsame, Farah, Yusuf, Osman, Jama, Aden, Ibrahim, Hersi, "
               "Nur, Mohamud, Abdullahi, Egal, Duale, Said, Omar"),
    ),
    "ru": NamePool(
        _split("Aleksandr, Dmitri, Maksim, Ivan, Artjom, Nikita, Mihail, Daniil, Kirill, Andrei, Jegor, Ilja, "
               "Sergei, Roman, Matvei, Timofei, Aleksei, Vladimir, Pavel, Denis"),
        _split("Anastasia, Jekaterina, Marija, Darja, Anna, Sofia, Polina, Viktorija, Jelizaveta, Ksenija, "
               "Alina, Valerija, Olga, Natalja, Julia, Tatjana, Svetlana, Irina, Veronika, Arina"),
        _split("Ivanov, Smirnov, Kuznetsov, Popov, Vasiljev, Petrov, Sokolov, Mihailov, Novikov, Fjodorov, "
               "Morozov, Volkov, Aleksejev, Lebedev, Semjonov, Jegorov, Pavlov, Kozlov, Stepanov, Orlov"),
        feminine_last=True,
    ),
    "uk": NamePool(
        _split("Oleksandr, Andrii, Dmytro, Maksym, Mykola, Serhii, Volodymyr, Yurii, Bohdan, Taras, Ivan, "
               "Artem, Denys, Vladyslav, Oleh, Yaroslav, Roman, Nazar, Danylo, Matvii"),
        _split("Olena, Iryna, Oksana, Nataliia, Tetiana, Yuliia, Anastasiia, Sofiia, Viktoriia, Daria, "
               "Kateryna, Mariia, Anna, Solomiia, Khrystyna, Alina, Yana, Veronika, Polina, Zlata"),
        _split("Shevchenko, Kovalenko, Bondarenko, Tkachenko, Kravchenko, Boiko, Melnyk, Kovalchuk, Oliinyk, "
               "Lysenko, Moroz, Marchenko, Savchenko, Rudenko, Petrenko, Tkachuk, Polishchuk, Kravets, "
               "Honcharuk, Pavlenko"),
    ),
    "fa": NamePool(
        _split("Ali, Reza, Mohammad, Amir, Hossein, Mehdi, Arash, Dariush, Kian, Aryan, Farid, Omid, Navid, "
               "Sina, Parsa, Hamid, Ahmad, Mustafa, Sohrab, Behnam"),
        _split("Zahra, Maryam, Fatemeh, Narges, Sara, Shirin, Parisa, Roya, Yasaman, Nazanin, Leila, Mahsa, "
               "Ava, Setareh, Mina, Darya, Hasti, Tara, Nilufar, Farzaneh"),
        _split("Hosseini, Ahmadi, Mohammadi, Rezaei, Karimi, Moradi, Rahimi, Jafari, Hashemi, Sadeghi, Azizi, "
               "Rostami, Nazari, Ghorbani, Amiri, Haidari, Sultani, Rahmani, Yousefi, Kazemi"),
    ),
    "vi": NamePool(
        _split("Minh, Anh, Duc, Huy, Tuan, Quang, Long, Hoang, Nam, Khoa, Bao, Phuc, Thanh, Dung, Hieu, "
               "Trung, Viet, Hai, Son, Kien"),
        _split("Linh, Lan, Mai, Huong, Thao, Trang, Ngoc, Hoa, Phuong, Thu, Ha, Van, Anh, Yen, Chi, Nhung, "
               "Ngan, Vy, Quynh, Hanh"),
        _split("Nguyen, Tran, Le, Pham, Hoang, Huynh, Phan, Vu, Vo, Dang, Bui, Do, Ho, Ngo, Duong, Ly"),
    ),
    "sq": NamePool(
        _split("Arben, Besnik, Dritan, Ermal, Gentian, Ilir, Klodian, Leotrim, Arlind, Valon, Blerim, Driton, "
               "Fatos, Kushtrim, Agon"),
        _split("Arta, Blerta, Drita, Elira, Fjolla, Gresa, Hana, Jehona, Liridona, Albana, Vlora, Rina, "
               "Ariana, Edona, Dafina"),
        _split("Krasniqi, Gashi, Berisha, Morina, Shala, Hoxha, Bytyqi, Kelmendi, Rexhepi, Hasani, Maloku, "
               "Mustafa, Rama, Ahmeti, Shehu"),
    ),
    "ku": NamePool(
        _split("Aram, Rebin, Hawre, Karwan, Dilshad, Shwan, Sherko, Zana, Rawand, Ako, Soran, Bawan, Hemin, "
               "Dara, Shakar"),
        _split("Shilan, Nasrin, Rezan, Bahar, Hana, Dilan, Avin, Shno, Lana, Rojin, Nazdar, Sazan, Kazhal, "
               "Tara, Chra"),
        _split("Ahmed, Karim, Rashid, Aziz, Hama, Mahmood, Salih, Qadir, Othman, Abdulla, Rasul, Faraj, Hasan, "
               "Sabir, Omer"),
    ),
}

# Children's first names: Faker's lists follow the whole population, so pupils would be called
# Marjatta and Kalervo. These are among the most given names in Finland in the 2010s (DVV lists).
CHILDREN = {
    "fi": NamePool(
        _split("Eino, Leo, Väinö, Elias, Oliver, Onni, Eeli, Toivo, Vilho, Niilo, Veeti, Aaro, Emil, Lenni, "
               "Aatu, Oiva, Hugo, Joel, Juho, Eetu, Otto, Aleksi, Oskari, Akseli, Niko, Luka, Rasmus, Valtteri"),
        _split("Aino, Aada, Olivia, Helmi, Sofia, Eevi, Lilja, Venla, Isla, Ellen, Pihla, Emma, Ella, Hilla, "
               "Siiri, Kerttu, Elli, Enni, Aava, Emilia, Iida, Veera, Nella, Lotta, Linnea, Minea, Saana, Vilja"),
        (),
    ),
    "sv": NamePool(
        _split("Elias, Oliver, Leo, Hugo, Anton, Emil, Axel, Alexander, Oscar, Viktor, Theo, Isak, Liam, "
               "William, Noel, Lucas, Max, Edvin, Benjamin, Felix"),
        _split("Ellen, Ella, Alva, Saga, Olivia, Ebba, Wilma, Stella, Alice, Linnea, Nellie, Emma, Elsa, Sofia, "
               "Julia, Ida, Amanda, Selma, Matilda, Vera"),
        (),
    ),
}

# Faker locales that write names in Latin script; sampled (with Faker's own frequencies) into pools.
FAKER_LOCALES = {"fi": "fi_FI", "sv": "sv_SE", "et": "et_EE", "en": "en_GB"}
_POOL_SIZE = 300

# Home languages other than Finnish and Swedish, weighted after the capital region's largest
# groups (domain.md §5: Russian, Estonian, Somali, Arabic; growing Persian, Vietnamese; Ukrainian since 2022).
OTHER_LANGUAGE_WEIGHTS = {"ru": 17, "ar": 15, "uk": 12, "et": 11, "so": 11, "fa": 8, "vi": 7, "en": 7, "sq": 6, "ku": 6}


def _faker_pool(locale: str, seed: int) -> NamePool:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return NamePool(
        male=tuple(fake.first_name_male() for _ in range(_POOL_SIZE)),
        female=tuple(fake.first_name_female() for _ in range(_POOL_SIZE)),
        last=tuple(fake.last_name_male() for _ in range(_POOL_SIZE)),
        last_female=tuple(fake.last_name_female() for _ in range(_POOL_SIZE)),
    )


class NameMaker:
    """Makes (first name, last name) pairs for a home language; deterministic for one seed."""

    def __init__(self, seed: int) -> None:
        self.pools = dict(CURATED)
        for language, locale in FAKER_LOCALES.items():
            self.pools[language] = _faker_pool(locale, seed)
        # Faker's Estonian list mixes in Russian surnames without gender agreement (a female "Danilov").
        self.pools["et"] = replace(self.pools["et"], feminine_last=True)

    def first_name(self, language: str, female: bool, rng: random.Random, child: bool = False) -> str:
        pool = (child and CHILDREN.get(language)) or self.pools.get(language, self.pools["fi"])
        return rng.choice(pool.female if female else pool.male)

    def last_name(self, language: str, female: bool, rng: random.Random) -> str:
        pool = self.pools.get(language, self.pools["fi"])
        last = rng.choice(pool.last_female if female and pool.last_female else pool.last)
        if female and pool.feminine_last and last.endswith(("ov", "ev", "in")):
            last += "a"
        return last

    def person(
        self, language: str, rng: random.Random, female: bool | None = None, child: bool = False
    ) -> tuple[str, str, bool]:
        """A (first, last, female) triple; Vietnamese families sometimes give a two-part first name."""
        if female is None:
            female = rng.random() < 0.5
        first = self.first_name(language, female, rng, child)
        if language == "vi" and rng.random() < 0.4:
            first = f"{first} {self.first_name(language, female, rng, child)}"
        return first, self.last_name(language, female, rng), female

    def family_name_for(self, language: str, last: str, female: bool) -> str:
        """The same surname in the right gender form (Ivanov → Ivanova)."""
        pool = self.pools.get(language, self.pools["fi"])
        if not pool.feminine_last:
            return last
        stem = last[:-1] if last.endswith(("ova", "eva", "ina")) else last
        return stem + "a" if female and stem.endswith(("ov", "ev", "in")) else stem
