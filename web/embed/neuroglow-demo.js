// <neuroglow-demo>: a live Neuroglow model inside any page.
//
//   <script type="module" src="https://your.site/embed/neuroglow-demo.js"></script>
//   <neuroglow-demo task="classify" model="/models/sentiment-lstm/"></neuroglow-demo>
//
// Each element draws into its own shadow root, so the page's styles and the
// demo's never meet. The engine (WebAssembly, built from crates/widget) is
// loaded once per page, when the first demo scrolls into view, and shared by
// every demo on it, as is the GPU device. Changing an attribute rebuilds the
// demo; `height` and `theme` just restyle it. Nothing here uses eval or
// inline scripts, so it runs under `script-src 'self' 'wasm-unsafe-eval'`.

const here = new URL('.', import.meta.url);

let engine;
function loadEngine() {
  engine ??= import('./neuroglow-widget.js').then(async (bindings) => {
    await bindings.default();
    return bindings;
  });
  return engine;
}

// What the engine is told; the model's address is resolved against the page.
function readAttributes(element) {
  const model = element.getAttribute('model');
  const text = (name) => element.getAttribute(name) ?? undefined;
  return {
    task: text('task'),
    model: model === null ? undefined : new URL(model, document.baseURI).href,
    backend: text('backend'),
    trainable: element.hasAttribute('trainable') && element.getAttribute('trainable') !== 'false',
    controls: text('controls'),
    setup: text('setup'),
    home: new URL('../', here).href,
  };
}

class NeuroglowDemo extends HTMLElement {
  static observedAttributes = ['model', 'task', 'backend', 'trainable', 'height', 'theme', 'controls', 'setup'];

  // Demos start when they come near the viewport, not before.
  static #nearView = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting) {
        NeuroglowDemo.#nearView.unobserve(entry.target);
        entry.target.#start();
      }
    }
  }, { rootMargin: '200px' });

  #box;
  #mounted = null;
  #started = false;
  #rebuildQueued = false;

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: 'open' });
    for (const sheet of ['styles.css', 'neuroglow-demo.css']) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = new URL(sheet, here).href;
      shadow.append(link);
    }
    this.#box = document.createElement('div');
    this.#box.className = 'box';
    this.#box.setAttribute('part', 'box');
    shadow.append(this.#box);
  }

  connectedCallback() {
    this.#applyHeight();
    if (!this.#started) {
      this.#box.textContent = 'Loading the Neuroglow demo…';
      NeuroglowDemo.#nearView.observe(this);
    }
  }

  disconnectedCallback() {
    NeuroglowDemo.#nearView.unobserve(this);
    this.#mounted?.unmount();
    this.#mounted = null;
    this.#started = false;
  }

  attributeChangedCallback(name) {
    if (name === 'height') return this.#applyHeight();
    if (name === 'theme' || !this.#started || this.#rebuildQueued) return;
    // Several attributes often change together: rebuild once.
    this.#rebuildQueued = true;
    queueMicrotask(() => {
      this.#rebuildQueued = false;
      this.#build();
    });
  }

  #applyHeight() {
    const height = this.getAttribute('height');
    this.#box.style.height = !height ? '' : /^\d+$/.test(height) ? `${height}px` : height;
  }

  #start() {
    this.#started = true;
    this.#build();
  }

  async #build() {
    try {
      const bindings = await loadEngine();
      if (!this.isConnected) return;
      this.#mounted?.unmount();
      this.#box.replaceChildren();
      this.#mounted = bindings.mount(this.#box, readAttributes(this));
    } catch (error) {
      // The host page goes on; the box says what happened.
      this.#box.textContent = `This demo cannot start: ${error?.message ?? error}`;
      this.#box.classList.add('error');
      console.warn('neuroglow-demo:', error);
    }
  }
}

if (!customElements.get('neuroglow-demo')) {
  customElements.define('neuroglow-demo', NeuroglowDemo);
}
