"""Reference answers of the holdout seam corpus, and restarts that diverge from them.

Written independently of :mod:`~streamrecover.testing.seams.answers` (the corpus
the stitcher is tuned on), so that a rule fitted to that corpus's text shows up
here as a failure. Each answer is of a kind real models produce: long prose
with em-dashes and quotes, step lists, nested markdown, tables with numeric
columns and alignment padding, code (Python, JavaScript, SQL, YAML, shell)
with indentation and blank lines, JSON and CSV blocks, URLs and file paths,
version numbers and dates, LaTeX, German and French, Chinese and Japanese,
emoji with ZWJ sequences, doubled letters and legitimately repeated words
("that that", "had had"), repetitive text (log lines, lists of similar items)
and parallel sentence openings.

:data:`HOLDOUT_RESTARTS` holds, per answer, other answers a model could give
when it starts again: each shares fewer than 32 characters with the reference
before it diverges (the issue's "restarts the answer and diverges early").
"""

from __future__ import annotations

__all__ = ["HOLDOUT_ANSWERS", "HOLDOUT_RESTARTS", "PERIODIC_HOLDOUT_ANSWERS"]

_WOMAN_TECHNOLOGIST = "\U0001f469\u200d\U0001f4bb"
_FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
_RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
_THUMBS_UP_MEDIUM = "\U0001f44d\U0001f3fd"
_ASTRONAUT_DARK = "\U0001f9d1\U0001f3ff\u200d\U0001f680"
_RED_HEART = "\u2764\ufe0f"
_WOMAN_SHRUGGING = "\U0001f937\u200d\u2640\ufe0f"
_PARTY = "\U0001f389"

HOLDOUT_ANSWERS: dict[str, str] = {
    "essay": (
        "Resilience is rarely glamorous \u2014 it lives in the retries nobody notices. "
        "When a stream stalls, the client has three options: wait, retry, or give up. "
        "\u201cWait\u201d sounds passive, but it is often right; a proxy that closes an idle "
        "connection after 60 seconds doesn't mean the model has stopped thinking. "
        "Engineers sometimes say that that kind of patience is a luxury \u2014 it isn't. "
        "It's the difference between an answer that arrives and one that doesn't.\n\n"
        'The committee that reviewed the design put it plainly: "Never show the '
        'reader the same sentence twice, and never drop a word."'
    ),
    "steps": (
        "To rotate the signing key without downtime:\n\n"
        "1. Generate a new key pair and store it next to the old one.\n"
        "2. Publish the new public key, but keep signing with the old private key.\n"
        "3. Wait until every verifier has fetched the new key (at least one cache "
        "TTL, usually 15 minutes).\n"
        "4. Switch signing to the new private key.\n"
        "5. After another TTL, remove the old public key.\n"
        "6. Delete the old private key \u2014 and make sure no backup still holds it.\n\n"
        "If step 3 is skipped, some verifiers will reject valid tokens for up to 15 minutes."
    ),
    "nested_markdown": (
        "## Configuration\n\n"
        "The loader reads settings in this order:\n\n"
        "- **Defaults** built into the package\n"
        "  - `timeout`: 30 seconds\n"
        "  - `retries`: 3\n"
        "- **File** at `~/.config/app/settings.toml`\n"
        "  - overrides any default\n"
        "  - may include other files:\n"
        '    - `include = ["base.toml"]`\n'
        "- **Environment** variables prefixed with `APP_`\n\n"
        "> **Tip:** run `app config --show` to print the merged result.\n\n"
        "### Precedence\n\n"
        "Later sources win; *unset* values never override set ones."
    ),
    "region_table": (
        "| Region     | Requests | Errors | Error rate | p95 (ms) |\n"
        "|------------|---------:|-------:|-----------:|---------:|\n"
        "| us-east-1  |   12,480 |     31 |      0.25% |      182 |\n"
        "| eu-west-1  |    9,115 |      8 |      0.09% |      201 |\n"
        "| ap-south-1 |    3,002 |     44 |      1.47% |      340 |\n"
        "| total      |   24,597 |     83 |      0.34% |      197 |\n\n"
        "The p95 in ap-south-1 is almost twice that of the other regions."
    ),
    "strategy_table": (
        "| Strategy  | Keeps text | Needs prefill | Safe for JSON |\n"
        "|:----------|:----------:|:-------------:|:-------------:|\n"
        "| native    | yes        | no            | yes           |\n"
        "| exact     | yes        | optional      | no            |\n"
        "| paragraph | partly     | optional      | no            |\n"
        "| restart   | no         | no            | yes           |\n\n"
        "Only `native` and `restart` are safe when the output must parse."
    ),
    "python_code": (
        "Here is a retry helper:\n\n"
        "```python\n"
        "import random\n"
        "import time\n"
        "\n"
        "\n"
        "def retry(call, attempts=5, base=0.5):\n"
        '    """Call `call` until it succeeds, with jittered backoff."""\n'
        "    for attempt in range(attempts):\n"
        "        try:\n"
        "            return call()\n"
        "        except ConnectionError:\n"
        "            if attempt == attempts - 1:\n"
        "                raise\n"
        "            delay = base * 2 ** attempt\n"
        "            time.sleep(delay * random.uniform(0.5, 1.0))\n"
        "\n"
        "\n"
        'if __name__ == "__main__":\n'
        "    print(retry(lambda: 42))\n"
        "```\n\n"
        "The jitter keeps many clients from retrying in lockstep."
    ),
    "js_code": (
        "```js\n"
        "async function fetchAll(urls, { concurrency = 4 } = {}) {\n"
        "  const results = new Array(urls.length);\n"
        "  let next = 0;\n"
        "\n"
        "  async function worker() {\n"
        "    while (next < urls.length) {\n"
        "      const i = next++;\n"
        "      const res = await fetch(urls[i]);\n"
        "      results[i] = res.ok ? await res.json() : null;\n"
        "    }\n"
        "  }\n"
        "\n"
        "  await Promise.all(Array.from({ length: concurrency }, worker));\n"
        "  return results;\n"
        "}\n"
        "```\n\n"
        "Each worker takes the next index, so no URL is fetched twice."
    ),
    "sql_query": (
        "The query below finds customers whose spending doubled:\n\n"
        "```sql\n"
        "SELECT c.id,\n"
        "       c.name,\n"
        "       SUM(o.total) AS spent_2024\n"
        "FROM customers AS c\n"
        "JOIN orders AS o ON o.customer_id = c.id\n"
        "WHERE o.created_at >= DATE '2024-01-01'\n"
        "  AND o.created_at <  DATE '2025-01-01'\n"
        "GROUP BY c.id, c.name\n"
        "HAVING SUM(o.total) >= 2 * (\n"
        "    SELECT COALESCE(SUM(p.total), 0)\n"
        "    FROM orders AS p\n"
        "    WHERE p.customer_id = c.id\n"
        "      AND p.created_at <  DATE '2024-01-01'\n"
        ")\n"
        "ORDER BY spent_2024 DESC\n"
        "LIMIT 20;\n"
        "```"
    ),
    "yaml_compose": (
        "```yaml\n"
        "services:\n"
        "  api:\n"
        "    image: ghcr.io/example/api:1.14.2\n"
        "    ports:\n"
        '      - "8080:8080"\n'
        "    environment:\n"
        "      LOG_LEVEL: info\n"
        "      DATABASE_URL: postgres://app@db:5432/app\n"
        "    depends_on:\n"
        "      - db\n"
        "\n"
        "  db:\n"
        "    image: postgres:16.3\n"
        "    volumes:\n"
        "      - db-data:/var/lib/postgresql/data\n"
        "\n"
        "volumes:\n"
        "  db-data: {}\n"
        "```\n\n"
        "Run `docker compose up -d` and the API listens on port 8080."
    ),
    "shell_script": (
        "```bash\n"
        "#!/usr/bin/env bash\n"
        "set -euo pipefail\n"
        "\n"
        "for f in logs/*.log; do\n"
        "    if grep -q 'ERROR' \"$f\"; then\n"
        '        echo "$f: $(grep -c \'ERROR\' "$f") errors"\n'
        "    fi\n"
        "done\n"
        "\n"
        'tar -czf "logs-$(date +%Y-%m-%d).tar.gz" logs/\n'
        "```\n\n"
        "The `set -euo pipefail` line stops the script at the first failing command."
    ),
    "json_block": (
        "The endpoint returns:\n\n"
        "```json\n"
        "{\n"
        '  "id": "run_8f3a2c",\n'
        '  "status": "completed",\n'
        '  "usage": {\n'
        '    "input_tokens": 1532,\n'
        '    "output_tokens": 418,\n'
        '    "cost_usd": 0.0123\n'
        "  },\n"
        '  "tags": ["batch", "eu", "retry-2"],\n'
        '  "finished_at": "2025-07-14T09:30:00Z",\n'
        '  "error": null\n'
        "}\n"
        "```\n\n"
        "`cost_usd` is rounded to four decimals."
    ),
    "csv_block": (
        "```csv\n"
        "date,station,temp_c,rain_mm\n"
        "2024-06-01,Oslo,14.2,0.0\n"
        "2024-06-01,Bergen,11.8,6.4\n"
        "2024-06-02,Oslo,15.0,0.0\n"
        "2024-06-02,Bergen,12.1,11.0\n"
        "2024-06-03,Oslo,13.7,2.2\n"
        "2024-06-03,Bergen,10.9,14.6\n"
        "```\n\n"
        "Bergen got 32.0 mm of rain in three days; Oslo got 2.2 mm."
    ),
    "urls_paths": (
        "The logs are in `/var/log/nginx/access.log` on Linux and "
        "`C:\\ProgramData\\nginx\\logs\\access.log` on Windows. The docs live at "
        "https://nginx.org/en/docs/http/ngx_http_log_module.html#access_log, and the "
        "mirror at https://mirror.example.com/docs/v1.25/log.html?lang=en&format=full "
        "works too. Copy `./conf.d/default.conf` to `/etc/nginx/conf.d/` and reload "
        "with `sudo nginx -s reload`."
    ),
    "versions_dates": (
        "Python 3.12.4 was released on 2024-06-06, about two months after 3.12.3 "
        "(2024-04-09). Python 3.8 reached end of life on 7 October 2024, and 3.9 "
        "follows in October 2025. If you pin `requests>=2.31.0,<3`, pip picks 2.32.3; "
        "urllib3 2.2.2 fixed CVE-2024-37891. Node.js 20.15.1 LTS shipped on July 8, "
        "2024, and v22.4.0 on 2024-07-02."
    ),
    "latex_math": (
        "The variance of a sum is\n\n"
        "$$\\operatorname{Var}(X + Y) = \\operatorname{Var}(X) + \\operatorname{Var}(Y)"
        " + 2\\,\\operatorname{Cov}(X, Y).$$\n\n"
        "For independent $X$ and $Y$, $\\operatorname{Cov}(X, Y) = 0$, so the variances "
        "add. With $n$ samples, the standard error of the mean is $\\sigma / \\sqrt{n}$; "
        "for $\\sigma = 2.5$ and $n = 100$ that is $0.25$. The unbiased estimator is "
        "$s^2 = \\frac{1}{n - 1} \\sum_{i=1}^{n} (x_i - \\bar{x})^2$."
    ),
    "german_french": (
        "Die Gr\u00f6\u00dfe der Datei h\u00e4ngt vom Format ab: F\u00fcr \u00fcbliche "
        "Fotos reichen 2\u20133 MB. Stra\u00dfenbahnhaltestelle ist ein langes Wort, und "
        "\u201eSchifffahrt\u201c schreibt man mit drei f.\n\n"
        "En fran\u00e7ais, on dit \u00ab la reprise du flux \u00bb : l\u2019\u00e9l\u00e8ve "
        "a r\u00e9pondu o\u00f9 il fallait, et le gar\u00e7on a d\u00e9j\u00e0 re\u00e7u sa "
        "le\u00e7on. Les caract\u00e8res accentu\u00e9s \u2014 \u00e9, \u00e8, \u00ea, "
        "\u00e7, \u0153 \u2014 ne doivent jamais \u00eatre coup\u00e9s."
    ),
    "chinese": (
        "断点续传的关键在于：客户端记住已经收到的字节数，重新连接时从这个位置继续。"
        "例如，下载一个 2.5 GB 的文件时，如果在 60% 处断开，只需要再下载剩下的 1 GB。"
        "服务器必须支持 Range 请求头，否则只能从头开始。"
        "同样的道理也适用于流式回答：已经显示的文字不能重复，也不能丢失。"
    ),
    "japanese": (
        "ストリーミングが途中で切れた場合、クライアントは受信済みのテキストを保持し、"
        "続きから再開します。同じ文が二度表示されてはいけません。"
        "たとえば「こんにちは、世界」の「世界」だけが欠けることも、重複することも許されません。"
        "東京の天気は晴れ、気温は23度です。"
    ),
    "emoji_zwj": (
        f"Release party checklist {_PARTY}\n\n"
        f"- {_WOMAN_TECHNOLOGIST} Alice: final build\n"
        f"- {_FAMILY} the whole team: cake at 4 pm\n"
        f"- {_RAINBOW_FLAG} flags on the balcony\n"
        f"- {_THUMBS_UP_MEDIUM} approvals from Bob and {_ASTRONAUT_DARK} Sam\n\n"
        f"React with {_RED_HEART} if you're coming, or {_WOMAN_SHRUGGING} if you're "
        "not sure yet!"
    ),
    "doubled_letters": (
        "Mississippi has four s's and four i's, and banana has three a's. The committee "
        'agreed that that spelling is correct: "committee" doubles the m, the t and '
        "the e. Bookkeeper has three doubled pairs in a row \u2014 oo, kk, ee. A balloon, "
        "a coffee, a success: all of them repeat a letter. Did Anna see the racecar at "
        "noon? The reader said that the level of detail was right."
    ),
    "repeated_words": (
        "What it is is a race: the writer writes, the reader reads, and whoever is "
        "first wins. The reader had had enough of stale data, so the writer wrote it "
        'again. Again and again, the same pair of words came back \u2014 "ready, '
        'ready" \u2014 until the log finally said "done, done". Bye-bye, bug.'
    ),
    "log_lines": (
        "```\n"
        "2024-11-02T10:15:01Z INFO  worker-1 job=4411 status=started\n"
        "2024-11-02T10:15:01Z INFO  worker-2 job=4412 status=started\n"
        "2024-11-02T10:15:03Z WARN  worker-1 job=4411 retry=1 reason=timeout\n"
        "2024-11-02T10:15:04Z INFO  worker-2 job=4412 status=done elapsed=3.2s\n"
        "2024-11-02T10:15:06Z INFO  worker-1 job=4411 status=done elapsed=5.0s\n"
        "2024-11-02T10:15:06Z INFO  worker-3 job=4413 status=started\n"
        "```\n\n"
        "Only job 4411 needed a retry."
    ),
    "similar_items": (
        "Supported regions:\n\n"
        "- us-east-1 (N. Virginia)\n"
        "- us-east-2 (Ohio)\n"
        "- us-west-1 (N. California)\n"
        "- us-west-2 (Oregon)\n"
        "- eu-west-1 (Ireland)\n"
        "- eu-west-2 (London)\n"
        "- eu-west-3 (Paris)\n"
        "- eu-central-1 (Frankfurt)\n\n"
        "All eight regions support the same instance types."
    ),
    "parallel_openings": (
        "If the connection resets, the client retries. If the server answers 529, the "
        "client waits and retries. If the stream stops halfway, the client resumes. If "
        "the model refuses a prefill, the client asks it to continue. If nothing works, "
        "the client gives up and says why. In every case, the client keeps what it "
        "already has."
    ),
    "prices": (
        "The Basic plan costs $9.99 per month, or $99 per year (a 17% discount). Pro "
        "is $24.50 per month; 1,250 users on Pro pay $30,625.00 a month. Enterprise "
        "starts at 1.200 \u20ac per month in Germany \u2014 note the dot as the "
        "thousands separator \u2014 plus 0.5% of revenue above 1.000.000 \u20ac."
    ),
    "dialogue": (
        "\u201cDid you restart it?\u201d she asked.\n"
        "\u201cTwice,\u201d he said. \u201cThe first time it came back in 40 seconds; "
        "the second time it didn't come back at all.\u201d\n"
        "\u201cThen don't restart it a third time \u2014 call Ops.\u201d\n"
        "'Fine,' he muttered, 'but Ops will just say \"restart it.\"'"
    ),
    "short_answer": (
        "Yes. In Python 3.12, `list.sort()` is stable, so items with equal keys keep "
        "their original order."
    ),
}

#: Answers made mostly of a repeated pattern (log lines, a list of similar items,
#: a table of yes/no cells): at a seam there, "repeated" and "went on" can read the same.
PERIODIC_HOLDOUT_ANSWERS: frozenset[str] = frozenset(
    {"log_lines", "similar_items", "strategy_table", "csv_block"}
)

HOLDOUT_RESTARTS: dict[str, tuple[str, ...]] = {
    "essay": (
        "Resilience is rarely about heroics; it is about the retries that nobody "
        "ever sees. A client that waits, retries and resumes is boring, and boring "
        "is what you want.",
        "Resilience \u2014 in streaming, at least \u2014 means the answer survives the "
        "network. Here is how a client gets there.",
    ),
    "steps": (
        "To rotate the key safely, publish the new public key first, wait one cache "
        "TTL, then switch signing and retire the old key.",
        "To rotate keys:\n\n1. Create the new pair.\n2. Publish it.\n3. Switch.",
    ),
    "nested_markdown": (
        "## Configuration order\n\nSettings come from three places, and later ones "
        "win: defaults, then the file, then the environment.",
        "## How configuration is loaded\n\n1. Defaults\n2. The settings file\n3. "
        "Environment variables",
    ),
    "region_table": (
        "| Region     | Requests | Failures |\n|------------|---------:|---------:|\n"
        "| us-east-1  |   12,480 |       31 |\n",
        "| Region | Error rate |\n|---|---|\n| us-east-1 | 0.25% |\n| eu-west-1 | 0.09% |\n",
    ),
    "strategy_table": (
        "| Strategy  | Keeps the text | Safe for JSON |\n|-----------|----------------|"
        "---------------|\n| native    | yes            | yes           |\n",
        "| Strategy | When to use it |\n|---|---|\n| native | the provider resumes "
        "the stream itself |\n",
    ),
    "python_code": (
        "Here is a small retry helper with exponential backoff:\n\n```python\n"
        "import time\n\n\ndef retry(call, attempts=3):\n    ...\n```",
        "Here's one way to do it:\n\n```python\nfrom time import sleep\n```",
    ),
    "js_code": (
        "```js\nexport async function fetchAll(urls, concurrency = 4) {\n"
        "  const queue = [...urls.entries()];\n}\n```",
        "```javascript\nconst fetchAll = async (urls) => Promise.all(urls.map(u => "
        "fetch(u)));\n```",
    ),
    "sql_query": (
        "The query below uses a CTE to compare the two years:\n\n```sql\nWITH spend AS "
        "(\n  SELECT customer_id, SUM(total) AS total\n```",
        "The following query lists customers whose 2024 spending is at least twice "
        "their earlier total.",
    ),
    "yaml_compose": (
        '```yaml\nversion: "3.9"\nservices:\n  api:\n    image: ghcr.io/example/api\n```',
        '```yaml\nservices:\n  web:\n    build: .\n    ports: ["8080:8080"]\n```',
    ),
    "shell_script": (
        "```bash\n#!/bin/sh\nset -eu\nfind logs -name '*.log' -exec grep -l ERROR {} +\n```",
        "```bash\n#!/usr/bin/env bash\n# count errors per log file\nshopt -s nullglob\n```",
    ),
    "json_block": (
        "The endpoint returns a JSON object with the run's id, status, usage and "
        "timestamps, for example:",
        'The endpoint responds with:\n\n```json\n{"id": "run_8f3a2c", "status": "completed"}\n```',
    ),
    "csv_block": (
        "```csv\nstation,date,temp_c\nOslo,2024-06-01,14.2\nBergen,2024-06-01,11.8\n```",
        "```\ndate;station;temp_c;rain_mm\n2024-06-01;Oslo;14,2;0,0\n```",
    ),
    "urls_paths": (
        "The logs are written to `/var/log/nginx/` by default; on Windows look in "
        "`C:\\nginx\\logs`.",
        "The log files live in different places depending on the platform.",
    ),
    "versions_dates": (
        "Python 3.12.4 came out in June 2024 (on the 6th), two months after 3.12.3.",
        "Python 3.12.5 is the current patch release as of August 2024.",
    ),
    "latex_math": (
        "The variance of a sum of two random variables is the sum of their variances "
        "plus twice their covariance:",
        "The variance of $X + Y$ is $\\sigma_X^2 + \\sigma_Y^2 + 2\\rho\\sigma_X\\sigma_Y$.",
    ),
    "german_french": (
        "Die Größe einer Datei hängt vor allem vom Format ab. Fotos brauchen meist "
        "zwei bis drei Megabyte.",
        "Die Dateigröße hängt vom Format ab.",
    ),
    "chinese": (
        "断点续传的原理是：客户端记录已经收到的数据，断开后带上偏移量重新请求。",
        "断点续传依赖于服务器对 Range 请求头的支持。",
    ),
    "japanese": (
        "ストリーミングが途中で切断されても、受信済みの部分はそのまま残ります。",
        "ストリーミングの再開には二つの方法があります。",
    ),
    "emoji_zwj": (
        f"Release party checklist {_PARTY}{_PARTY}\n\n- cake\n- flags\n- music",
        f"Release party {_PARTY} \u2014 who brings what:\n\n- Alice: the build",
    ),
    "doubled_letters": (
        "Mississippi is spelled M-i-s-s-i-s-s-i-p-p-i: four s's, four i's and two p's.",
        "Mississippi and banana are the classic examples of repeated letters.",
    ),
    "repeated_words": (
        "What it is, is a race between the writer and the reader.",
        "What it is is simple: a race.",
    ),
    "log_lines": (
        "```\n2024-11-02 10:15:01 INFO worker-1 started job 4411\n```",
        "```\n2024-11-02T10:15:01Z worker-1 job 4411 started\n```",
    ),
    "similar_items": (
        "Supported regions are us-east-1, us-east-2, us-west-1, us-west-2, eu-west-1, "
        "eu-west-2, eu-west-3 and eu-central-1.",
        "Supported regions (8 in total):\n\n| Code | City |\n|---|---|\n",
    ),
    "parallel_openings": (
        "If the connection drops, the client simply retries; a 529 means wait first.",
        "If something goes wrong, the client does one of five things.",
    ),
    "prices": (
        "The Basic plan costs $9.99 a month or $99 a year, which saves about 17%.",
        "The Basic plan is the cheapest option at $9.99.",
    ),
    "dialogue": (
        "\u201cDid you restart the service?\u201d she asked.\n\u201cTwice.\u201d",
        "\u201cDid it come back?\u201d she asked.",
    ),
    "short_answer": (
        "Yes. In Python 3.12, sorting is guaranteed to be stable.",
        "Yes \u2014 Python's sort has always been stable.",
    ),
}
