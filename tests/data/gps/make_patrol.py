#!/usr/bin/env python3
"""Writes patrol.nmea: a patrol car's 1 Hz GPS log (RMC + GGA per second).

The route (see README.md): eastbound along a street at 45.5185 N from
122.6500 W, cruising at 11 m/s, slowing to 5 m/s for a left turn at second
20 that swings the course from 090 to 000 over four seconds, then
northbound, speeding back up to 11 m/s. Forty epochs, 2025-06-14 14:30:00
to 14:30:39 UTC.

The positions integrate the speeds and courses written (flat earth, which
is exact enough over 400 m), so a reader can check that speed, course and
the step between points agree. Run it from this folder to regenerate.
"""

import math

START_LAT = 45.5185
START_LON = -122.6500
EPOCHS = 40
M_PER_DEG_LAT = 111_132.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(START_LAT))
KNOTS_PER_MPS = 3600.0 / 1852.0


def speed_at(t):
    """Metres per second at second t."""
    if t < 16:
        return 11.0
    if t < 20:
        return 11.0 - 1.5 * (t - 16)  # brake to 5 m/s for the turn
    if t < 24:
        return 5.0
    if t < 30:
        return 5.0 + 1.0 * (t - 24)  # pull away northbound
    return 11.0


def course_at(t):
    """Degrees true at second t: east, a left turn over 20..24, north."""
    if t <= 20:
        return 90.0
    if t >= 24:
        return 0.0
    return 90.0 - 22.5 * (t - 20)


def checksum(body):
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"{c:02X}"


def lat_field(lat):
    d = int(abs(lat))
    m = (abs(lat) - d) * 60.0
    return f"{d:02d}{m:08.5f}", "N" if lat >= 0 else "S"


def lon_field(lon):
    d = int(abs(lon))
    m = (abs(lon) - d) * 60.0
    return f"{d:03d}{m:08.5f}", "E" if lon >= 0 else "W"


def sentence(body):
    return f"${body}*{checksum(body)}\r\n"


def main():
    lat, lon = START_LAT, START_LON
    lines = []
    for t in range(EPOCHS):
        if t > 0:
            # Midpoint rule over the second just gone.
            v = (speed_at(t - 1) + speed_at(t)) / 2.0
            c = math.radians((course_at(t - 1) + course_at(t)) / 2.0)
            lat += v * math.cos(c) / M_PER_DEG_LAT
            lon += v * math.sin(c) / M_PER_DEG_LON
        hhmmss = f"1430{t:02d}.00"
        la, ns = lat_field(lat)
        lo, ew = lon_field(lon)
        knots = speed_at(t) * KNOTS_PER_MPS
        course = course_at(t)
        sats = 9 if t < 20 else 8  # buildings on the north side of the turn
        hdop = 0.9 if t < 20 else 1.2
        lines.append(
            sentence(
                f"GPRMC,{hhmmss},A,{la},{ns},{lo},{ew},{knots:.2f},{course:.1f},140625,,,A"
            )
        )
        lines.append(
            sentence(
                f"GPGGA,{hhmmss},{la},{ns},{lo},{ew},1,{sats:02d},{hdop:.1f},52.0,M,-19.5,M,,"
            )
        )
    with open("patrol.nmea", "w", newline="") as f:
        f.writelines(lines)


if __name__ == "__main__":
    main()
