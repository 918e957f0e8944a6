// Expands every event of an iCalendar object (read from stdin) with
// Mozilla's ical.js, using the VTIMEZONEs the object carries (not a zone
// database), and prints each occurrence as JSON: uid, start and end in
// UTC, status.
import ICAL from "ical.js";
import { readFileSync } from "node:fs";

const root = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
for (const tz of root.getAllSubcomponents("vtimezone")) {
  ICAL.TimezoneService.register(tz);
}
const events = root.getAllSubcomponents("vevent").map((c) => new ICAL.Event(c));
const masters = events.filter((e) => !e.isRecurrenceException());
for (const e of events.filter((e) => e.isRecurrenceException())) {
  const master = masters.find((m) => m.uid === e.uid);
  if (master) master.relateException(e);
}
const utc = (t) => t.toJSDate().toISOString().replace(".000Z", "Z");
const found = [];
for (const master of masters) {
  const it = master.iterator();
  let next;
  let guard = 0;
  while ((next = it.next()) && guard++ < 1000) {
    const details = master.getOccurrenceDetails(next);
    found.push({
      uid: master.uid,
      start: utc(details.startDate),
      end: utc(details.endDate),
      status: details.item.component.getFirstPropertyValue("status") || "",
    });
  }
}
found.sort((a, b) => (a.uid + a.start < b.uid + b.start ? -1 : 1));
console.log(JSON.stringify(found));
