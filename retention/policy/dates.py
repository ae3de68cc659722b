"""Date arithmetic of the rules: years are calendar years (29 February plus
one year is 28 February), days are 24-hour days."""

from datetime import datetime, timedelta


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28)


def add_days(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)
