"""Italian dates as Italians write them: "venerdì 4 dicembre 2026", no leading zero on
the day (Django's own has "Venerdì 04 Dicembre 2026"). The month and weekday names
are lower case through adesso/locale/it (they are common nouns in Italian). Anything
not set here comes from Django's Italian formats."""

DATE_FORMAT = "j F Y"  # 4 dicembre 2026
DATETIME_FORMAT = "l j F Y, H:i"  # venerdì 4 dicembre 2026, 14:30
MONTH_DAY_FORMAT = "j F"  # 4 dicembre
YEAR_MONTH_FORMAT = "F Y"  # dicembre 2026
