/**
 * What the gateway knows about Qwen's models: the output-token ceiling Qwen enforces (a larger
 * `max_tokens` is refused with 400 "Range of max_tokens should be [1, <limit>]", protocol §9.2) and
 * whether the model reads images. Figures are Qwen Code's own (`tokenLimits.ts`, protocol §6) so
 * the gateway clamps exactly where Qwen Code clamps; a model not in the table is not clamped (the
 * gateway cannot know its ceiling, and guessing low would cut answers short).
 */
export interface ModelInfo {
  /** Largest `max_tokens` Qwen accepts for the model; absent when unknown (no clamp). */
  readonly outputTokens?: number;
  readonly inputTokens?: number;
  /** The model reads `image_url` parts (Qwen Code also sends it `vl_high_resolution_images`). */
  readonly vision: boolean;
  /**
   * Whether the model thinks: `no` (an instruct model: thinking switches mean nothing to it, and
   * providers that validate them refuse the request), `hybrid` (off or on, `enable_thinking`), or
   * `only` (it always thinks and refuses `enable_thinking: false`, QwenLM/qwen-code #7332). Absent
   * when the sources read do not say.
   */
  readonly thinking?: 'no' | 'hybrid' | 'only';
}

/**
 * Keys are model ids (lower case). A key also covers its dated snapshots and suffixed variants:
 * `qwen3-coder-plus` matches `qwen3-coder-plus-2025-09-23` (Qwen Code matches families the same way).
 */
export type ModelLimits = Readonly<Record<string, ModelInfo>>;

export const QWEN_MODEL_LIMITS: ModelLimits = {
  // coder-model: 64K output (tokenLimits.ts). Since Qwen Code 0.14.5 it is "Qwen 3.6 Plus" with
  // capabilities.vision = true, and Qwen Code sends it vl_high_resolution_images.
  'coder-model': { inputTokens: 1_048_576, outputTokens: 65_536, vision: true, thinking: 'hybrid' },
  // 1M / 64K: Qwen Code's tokenLimits.ts @573dc5b and model-registry.json @255b62f.
  // Thinking: none (clients-and-qwen §1.4, the Coding Plan preset), for every qwen3-coder model.
  'qwen3-coder-plus': { inputTokens: 1_048_576, outputTokens: 65_536, vision: false, thinking: 'no' },
  // 1,000,000 / 65,536: model-registry.json @255b62f (Qwen Code itself fell back to 32K for it).
  'qwen3-coder-flash': { inputTokens: 1_000_000, outputTokens: 65_536, vision: false, thinking: 'no' },
  // 262,144 context: Qwen Code's Coding Plan preset @57105a2; no source states its output ceiling.
  'qwen3-coder-next': { inputTokens: 262_144, vision: false, thinking: 'no' },
  // 1,000,000 / 65,536: model-registry.json @255b62f; images per the Coding Plan preset @57105a2.
  // Thinking: yes, switchable (clients-and-qwen §1.4).
  'qwen3.5-plus': { inputTokens: 1_000_000, outputTokens: 65_536, vision: true, thinking: 'hybrid' },
  'qwen3.6-plus': { inputTokens: 1_000_000, outputTokens: 65_536, vision: true, thinking: 'hybrid' },
  'qwen3.6-flash': { inputTokens: 1_000_000, outputTokens: 65_536, vision: false, thinking: 'hybrid' },
  // 1,000,000 context (Qwen Code's presets); the output ceiling is in conflict between sources
  // (none in the registry, 65,536 in one third-party catalog), so it is not clamped.
  'qwen3.7-plus': { inputTokens: 1_000_000, vision: true, thinking: 'hybrid' },
  // 1,000,000 context (alibaba-standard.ts @1eb8b06); 64,000 output is single-sourced, not clamped.
  'qwen3.7-max': { inputTokens: 1_000_000, vision: false, thinking: 'hybrid' },
  // 262,144 / 65,536: model-registry.json @255b62f; the key also covers qwen3-max-2026-01-23.
  'qwen3-max': { inputTokens: 262_144, outputTokens: 65_536, vision: false, thinking: 'hybrid' },
  // Thinking only: it refuses enable_thinking false (QwenLM/qwen-code #7332); 1M / 128K (clients-and-qwen §1.4).
  'qwen3.8-max': { inputTokens: 1_000_000, outputTokens: 131_072, vision: false, thinking: 'only' },
  // The plans' third-party models: contexts from Qwen Code's Coding Plan preset @57105a2; no
  // source read states their output ceilings on Model Studio.
  'glm-5': { inputTokens: 202_752, vision: false },
  'kimi-k2.5': { inputTokens: 262_144, vision: true },
  'minimax-m2.5': { inputTokens: 196_608, vision: false },
  // The 2025 vision alias (qwen3-vl-plus-2025-09-23): 8K output.
  'vision-model': { inputTokens: 131_072, outputTokens: 8_192, vision: true },
  'qwen3-vl-plus': { inputTokens: 262_144, outputTokens: 32_768, vision: true },
  // Families Qwen Code's DashScope provider treats as vision models; their output ceilings are not
  // in the sources read, so they are not clamped.
  'qwen-vl': { vision: true },
  'qwen3-vl': { vision: true },
};

/**
 * Where images go when the requested model cannot read them. `vision-model` is the alias Qwen Code's
 * vision auto-switch used for OAuth accounts (protocol §6); configurable because it may not exist
 * on every account type.
 */
export const DEFAULT_VISION_MODEL = 'vision-model';

/** The table entry for `model`: exact id first, else the longest key that is a `<key>-…` prefix. */
export function lookupModel(limits: ModelLimits, model: string): ModelInfo | undefined {
  const id = model.trim().toLowerCase();
  // Own keys only: the id comes from the client ('constructor' must not find Object.prototype's).
  const exact = Object.hasOwn(limits, id) ? limits[id] : undefined;
  if (exact) return exact;
  let best: string | undefined;
  for (const key of Object.keys(limits)) {
    if (id.startsWith(`${key}-`) && (best === undefined || key.length > best.length)) best = key;
  }
  return best === undefined ? undefined : limits[best];
}
