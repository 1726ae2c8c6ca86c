// The network layer's public face (DESIGN.md): CNI execution and pinned network namespaces.

export * from './cni/index.ts';
export * from './netns.ts';
export * from './networks.ts';
export * from './subnets.ts';
