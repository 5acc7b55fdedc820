import pytest
import torch

from zedo_xr.estimator.threads import POSES_PER_THREAD, idle_cores, intra_op_threads, threads_for


def test_threads_for_small_batches_is_one():
    assert threads_for(100, limit=16, idle=16) == 1
    assert threads_for(3 * POSES_PER_THREAD, limit=16, idle=16) == 3
    assert threads_for(10 * POSES_PER_THREAD, limit=2, idle=16) == 2
    assert threads_for(10 * POSES_PER_THREAD, limit=16, idle=1) == 1
    assert idle_cores() >= 1


def test_intra_op_threads_restores_even_on_error():
    before = torch.get_num_threads()
    with pytest.raises(RuntimeError), intra_op_threads(1):
        assert torch.get_num_threads() == 1
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"), intra_op_threads(0):
        pass
