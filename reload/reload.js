// hotrun's reload script (package reload): the page reloads when what
// serves it changes, and shows a failed build in an overlay meanwhile.
(() => {
	const live = new URL(document.currentScript.src).searchParams.get("live") || "";
	let host = null;

	function show(p) {
		if (!host) {
			host = document.createElement("hotrun-overlay");
			host.id = "hotrun-overlay";
			host.attachShadow({ mode: "open" });
			document.documentElement.appendChild(host);
		}
		host.shadowRoot.innerHTML = `<style>
			.o { position: fixed; inset: 0; z-index: 2147483647; background: rgba(20, 20, 24, .88);
				color: #eee; font: 14px/1.45 ui-monospace, Menlo, Consolas, monospace; overflow: auto; padding: 32px; }
			h1 { font-size: 16px; margin: 0 0 12px; color: #ff7b72; }
			pre { white-space: pre-wrap; margin: 0 0 16px; }
			p { color: #aaa; margin: 0; }
			button { position: absolute; top: 12px; right: 16px; background: none; border: 0; color: #aaa; font-size: 20px; cursor: pointer; }
		</style><div class="o"><button title="hide">×</button><h1></h1><pre></pre>
		<p>hotrun: this page reloads when a version goes live. Fix it and save.</p></div>`;
		host.shadowRoot.querySelector("h1").textContent = p.title;
		host.shadowRoot.querySelector("pre").textContent = p.text;
		host.shadowRoot.querySelector("button").onclick = clear;
	}

	function clear() {
		if (host) {
			host.remove();
			host = null;
		}
	}

	const es = new EventSource("/__hotrun/events");
	function follow(id) {
		if (id && id !== live) {
			es.close();
			location.reload();
			return true;
		}
		return false;
	}
	es.addEventListener("hello", (e) => {
		const d = JSON.parse(e.data);
		if (follow(d.live)) return;
		if (d.problem) show(d.problem); else clear();
	});
	es.addEventListener("live", (e) => follow(JSON.parse(e.data).live));
	es.addEventListener("fail", (e) => show(JSON.parse(e.data)));
	es.addEventListener("ok", clear);
})();
