// Feature models a card's controller reaches again after the card built them (control requests,
// tests): one per SimContext, kept in a WeakMap so they go with the card.
import type { FeatureModel, FeatureModelFactory, SimContext } from './feature-model.js';

export interface ModelRegistry<M extends FeatureModel, O> {
  /** A factory that builds the model with `options` and remembers it for the card. */
  factory(options?: O): FeatureModelFactory;
  /** The model a card built for `ctx`, if any. */
  of(ctx: SimContext): M | undefined;
}

export function modelRegistry<M extends FeatureModel, O>(create: (options: O | undefined) => M): ModelRegistry<M, O> {
  const models = new WeakMap<SimContext, M>();
  return {
    factory: (options) => (ctx) => {
      const model = create(options);
      models.set(ctx, model);
      return model;
    },
    of: (ctx) => models.get(ctx),
  };
}
