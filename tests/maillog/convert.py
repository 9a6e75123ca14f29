#!/usr/bin/env python3
"""Turn recorded syslog lines (postfix maillog_file / dovecot log_path, RFC 3164 form) into
the forms journald and rsyslog would have written for the same events, for the log-format
tests: journalctl -o json, journalctl -o short-iso-precise and RFC 5424. The recording
machine had no journald (pcaps/README.md), so these are conversions, not recordings: the
time, host, program, pid and message are the recorded line's; the journal fields are the
ones journald sets for a syslog message (__REALTIME_TIMESTAMP in microseconds since the
epoch, _HOSTNAME, SYSLOG_IDENTIFIER, SYSLOG_PID, _PID, MESSAGE, PRIORITY, SYSLOG_FACILITY).

usage: convert.py FORMAT YEAR ZONE < maillog   (FORMAT: json | short-iso-precise | rfc5424)
"""
import datetime
import json
import re
import sys
import zoneinfo

LINE = re.compile(r'^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) (\S+) ([^\[: ]+)(?:\[(\d+)\])?: (.*)$')
DOVECOT = re.compile(r'^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) ([^ :]+): (.*)$')
MONTHS = 'Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec'.split()


def main():
    fmt, year, zone = sys.argv[1], int(sys.argv[2]), zoneinfo.ZoneInfo(sys.argv[3])
    for raw in sys.stdin:
        raw = raw.rstrip('\n')
        d, m = DOVECOT.match(raw), LINE.match(raw)
        if d:  # dovecot log_path: through syslog it is "dovecot: imap-login: ...", no level
            mon, day, hh, mi, ss, prog, msg = d.groups()
            host, pid = 'mail', None
            msg = re.sub(r'^(Info|Warning|Error|Fatal|Debug): ', '', msg)
            prog, msg = 'dovecot', f'{prog}: {msg}'
        elif m:
            mon, day, hh, mi, ss, host, prog, pid, msg = m.groups()
        else:
            continue
        t = datetime.datetime(year, MONTHS.index(mon) + 1, int(day), int(hh), int(mi),
                              int(ss), tzinfo=zone)
        if fmt == 'json':
            us = int(t.timestamp()) * 1000000
            rec = {'__REALTIME_TIMESTAMP': str(us), '_HOSTNAME': host, 'PRIORITY': '6',
                   'SYSLOG_FACILITY': '2', 'SYSLOG_IDENTIFIER': prog}
            if pid:
                rec['SYSLOG_PID'] = pid
                rec['_PID'] = pid
            rec['MESSAGE'] = msg
            print(json.dumps(rec, separators=(',', ':')))
        elif fmt == 'short-iso-precise':
            stamp = t.strftime('%Y-%m-%dT%H:%M:%S.000000%z')
            print(f'{stamp} {host} {prog}{"[" + pid + "]" if pid else ""}: {msg}')
        else:
            stamp = t.isoformat(timespec='microseconds')
            print(f'<22>1 {stamp} {host} {prog} {pid or "-"} - - {msg}')


main()
