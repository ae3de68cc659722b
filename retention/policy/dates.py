"""Date arithmetic of the rules: years and months are calendar years and
months, clamped to the end of a shorter month (29 February plus one year is
28 February; 30 November plus 3 months is 28 or 29 February), days are
24-hour days."""

import calendar
from datetime import datetime, timedelta


def add_years(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February in a year that has none
        return moment.replace(year=moment.year + years, day=28)


def add_days(moment: datetime, days: int) -> datetime:
    return moment + timedelta(days=days)


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )
