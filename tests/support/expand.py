"""Expands every event of an iCalendar object (read from stdin) with Python
`icalendar` and `recurring-ical-events`, independent of mentorbridge, and
prints each occurrence as JSON: uid, start and end in UTC, status."""
import datetime
import json
import sys

import icalendar
import recurring_ical_events

calendar = icalendar.Calendar.from_ical(sys.stdin.read())
utc = datetime.timezone.utc
found = []
for event in recurring_ical_events.of(calendar).between(
    datetime.datetime(2000, 1, 1, tzinfo=utc), datetime.datetime(2100, 1, 1, tzinfo=utc)
):
    start = event.decoded("DTSTART").astimezone(utc)
    end = event.decoded("DTEND").astimezone(utc)
    found.append({
        "uid": str(event["UID"]),
        "start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": str(event.get("STATUS", "")),
    })
found.sort(key=lambda o: (o["uid"], o["start"]))
print(json.dumps(found))
