import { libraryConfig } from '../../tsup.base';
import pkg from './package.json' with { type: 'json' };

export default libraryConfig(pkg);
