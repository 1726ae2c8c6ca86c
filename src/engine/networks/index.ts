// Networks as the engine sees them; the network layer's types are re-exported for cli/ and api/.
export {
  type CreateNetworkOptions,
  DEFAULT_NETWORK,
  type Network,
  type NetworkStore,
} from '../../network/index.ts';
export * from './attach.ts';
export * from './networks.ts';
export * from './ports.ts';
