"""Reads every customer's timeline once, on eight keep-alive connections: a node measured after it
has served every customer once, as one that has been serving has (its kept timelines filled).

Usage: warm.py URL CUSTOMERS   (the staff token in $STAFF_TOKEN)"""
import http.client, os, sys, threading
from urllib.parse import urlparse

url, customers = urlparse(sys.argv[1]), int(sys.argv[2])
token = os.environ["STAFF_TOKEN"]
failed = []

def read(part):
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    for number in range(100001 + part, 100001 + customers, 8):
        connection.request("GET", f"/v1/customers/C-{number}/timeline", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            failed.append((number, response.status))
    connection.close()

threads = [threading.Thread(target=read, args=(part,)) for part in range(8)]
for thread in threads: thread.start()
for thread in threads: thread.join()
if failed:
    sys.exit(f"warm.py: {len(failed)} reads failed, the first: {failed[0]}")
