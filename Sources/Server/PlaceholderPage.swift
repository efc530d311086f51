/// The page served at `/` until the browser client lands: says what this is and how to reach it.
enum PlaceholderPage {
    static func html(echoPath: String?) -> String {
        let echo = echoPath.map { "<p>Echo endpoint: <code>ws://&lt;this host&gt;\($0)</code></p>" } ?? ""
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Tickwire</title>
        <style>body{font:16px/1.5 system-ui,sans-serif;max-width:40em;margin:3em auto;color:#222}code{background:#eee;padding:0 .3em}</style>
        </head><body>
        <h1>Tickwire</h1>
        <p>An authoritative multiplayer game state server. This server is running; the playable browser client
        arrives with the rooms. Health: <a href="/healthz">/healthz</a>.</p>
        \(echo)
        <p id="status">Checking WebSocket…</p>
        <script>
        const path = \(echoPath.map { "\"\($0)\"" } ?? "null");
        const status = document.getElementById("status");
        if (path) {
          const ws = new WebSocket(`ws://${location.host}${path}`);
          ws.onopen = () => ws.send("hello");
          ws.onmessage = (event) => { status.textContent = `WebSocket echo works: ${event.data}`; ws.close(1000); };
          ws.onerror = () => { status.textContent = "WebSocket failed"; };
        } else {
          status.textContent = "Start with --echo-path /echo to try a WebSocket from this page.";
        }
        </script>
        </body></html>
        """
    }
}
