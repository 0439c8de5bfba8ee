export * from './frames';
export * from './codec';
export * from './brand';
export * from './late-deadline';
