/** image/layers: the layer store, each layer unpacked once under layers/<chain-id> and shared. */
export { collectGarbage, type LayerGcResult, LayerStore, removeImage } from './layer-store.ts';
