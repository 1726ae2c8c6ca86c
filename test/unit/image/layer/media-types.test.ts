import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SkiffError } from '../../../../src/common/index.ts';
import { layerCompression } from '../../../../src/image/layer/index.ts';

test('OCI and Docker layer media types map to their compression', () => {
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar'), 'none');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+gzip'), 'gzip');
  assert.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd'), 'zstd');
  assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
  assert.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar'), 'none');
});

test('an unknown media type is refused by name', () => {
  assert.throws(
    () => layerCompression('application/vnd.oci.image.layer.v1.tar+bzip2'),
    (err: unknown) =>
      err instanceof SkiffError && err.kind === 'InvalidArgument' && err.message.includes('tar+bzip2'),
  );
});
